"""Numbers that are not scores, beyond the dates, times and ids `scores` masks itself: each
a named rule over a number and the word beside it, in the languages the clients write.

A count ("2 agents helped"), a duration ("within 2 business days", "3 Tage"), a date with an
abbreviated month ("12 нояб.", "3 gru.", "3. Dez."), a price ("35 dollars", "900 р."), an
address ("Unit 5", "ul. Długa 15/3", "кв. 12") or a case number is noise wherever it
stands: a score is a number in a rating position, and these never are.

Speed: one scan finds each number with the (at most two) words after it, another each word
with the number after it; the rules are set lookups on those words, so the work is linear
in the text whatever the number of words the tables hold.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


QUALIFIERS = _words(
    "business working work calendar full whole long more рабочих рабочие рабочего робочих "
    "робочі робочого roboczych roboczy pełnych ganze volle weitere ouvrés ouvrables hábiles "
    "laborables lavorativi úteis werkdagen arbetsdagar hverdage virkedager pracovní "
    "pracovních iş"
)
DURATIONS = _words(
    # en ru uk pl
    "day days hour hours hr hrs h minute minutes min mins week weeks month months year years "
    "дня дней дни день суток час часа часов минута минуты минут недели неделю недель месяц "
    "месяца месяцев лет год года дні днів годину години годин хвилину хвилини хвилин тижні "
    "тижнів тижня місяці місяців місяця роки років dni dzień dnia godzinę godziny godzin "
    "minutę minuty minut tygodnie tygodni tydzień miesiące miesięcy lata lat "
    # de fr es it pt
    "tag tage tagen stunde stunden std minuten woche wochen monat monate monaten jahr jahre "
    "jahren jour jours heure heures semaine semaines mois an ans année années día días dia "
    "dias hora horas minuto minutos semana semanas mes meses año años giorno giorni ora ore "
    "minuti settimana settimane mese mesi anno anni mês anos "
    # nl sv da no cs tr
    "dag dagen uur uren week weken maand maanden jaar jaren dagar timme timmar minuter vecka "
    "veckor månad månader år dage dager time timer minutter uge uger uke uker måned måneder "
    "den dny dní dnů hodinu hodiny hodin minuty týden týdny týdnů měsíc měsíce měsíců let "
    "gün saat dakika hafta yıl"
)
COUNTED = _words(
    "agent agents people person persons call calls visit visits issue issues problem problems "
    "email emails e-mails message messages ticket tickets technician technicians engineer "
    "engineers operator operators rep reps representatives part parts device devices order "
    "orders attempts tries reminders мастер мастера мастеров человек человека специалиста "
    "специалистов оператора операторов звонка звонков письма писем визита визитов попытки "
    "попыток майстри майстрів дзвінки дзвінків фахівці фахівців technika techników osoby osób "
    "telefony telefonów wizyty maile maili próby prób techniker anrufe anrufen mitarbeiter "
    "mitarbeitern personen besuche technicien techniciens appel appels personnes visites "
    "técnico técnicos llamadas personas visitas tecnici chiamate persone monteur monteurs "
    "medewerkers telefoontjes tekniker samtal teknikere opkald technici hovory teknisyen kişi "
    "arama"
)
CURRENCIES = _words(
    "dollar dollars bucks euro euros pound pounds quid ruble rubles rouble roubles рублей "
    "рубля рубль руб р грн гривень гривні złotych zł zl kč korun kr kronor kroner lira tl "
    "yen chf"
)
# Abbreviated months count with their dot ("12 нояб.", "3 gru.", "3. Dez.", "4 dic."); full
# names count alone ("16 listopada", "3. Dezember").
MONTH_ABBREVIATIONS = _words(
    "янв февр фев мар апр июн июл авг сент сен окт нояб ноя дек січ лют бер квіт трав черв "
    "лип серп вер жовт лист груд sty lut mar kwi maj cze lip sie wrz paź paz lis gru jan feb "
    "mär märz apr jun jul aug sep sept okt nov dez janv févr fév avr juil déc ene abr ago "
    "dic gen mag giu lug set ott fev out mrt dec led úno bře dub kvě čvn čvc srp zář říj pro "
    "oca şub nis haz tem ağu eyl eki kas ara"
)
MONTH_NAMES = _words(
    "januar februar märz april mai juni juli august september oktober november dezember "
    "janvier février mars avril juin juillet août septembre octobre novembre décembre enero "
    "febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre "
    "gennaio febbraio aprile maggio giugno luglio settembre ottobre dicembre janeiro "
    "fevereiro março maio junho julho setembro outubro novembro dezembro januari februari "
    "maart mei augustus marts ledna února března dubna května června července srpna září "
    "října listopadu prosince січня лютого березня квітня травня червня липня серпня "
    "вересня жовтня листопада грудня ocak şubat nisan mayıs haziran temmuz ağustos eylül "
    "ekim kasım aralık"
)
STREET_WORDS = _words("street st road rd avenue ave lane drive way court place square")
BEFORE_ADDRESS = _words(
    "unit flat apt apartment suite house ul al os д дом кв корп стр офис str straße strasse "
    "gasse weg platz rue avenue av calle via piazza rua laan straat gatan vägen vej gate "
    "veien ulice вул буд sokak cad"
)
BEFORE_CASE = _words(
    "case request incident order invoice ref sr обращение обращения обращению заказ заказа "
    "заказу счёт счет zamówienie zamówienia faktura faktury fall vorgang bestellung auftrag "
    "rechnung commande dossier facture pedido caso factura ordine fattura pratica encomenda "
    "bestelling factuur ärende sag sak objednávka заявка заявки заявку звернення замовлення "
    "sipariş talep"
)
_STREET_SUFFIXES = ("str", "straße", "strasse", "gasse", "weg", "laan", "straat", "gatan", "vej")
_SPACE = r"[ \t\u00a0]"
_DIGITS = re.compile(r"\d{1,9}")
# After a number: its decimals, a dot, the word after it, that word's dot and one more word.
_AFTER = re.compile(
    rf"(?:[.,]\d{{1,2}})?(\.?){_SPACE}{{0,3}}([^\W\d_][\w'’-]{{0,24}})(\.?)"
    rf"(?:{_SPACE}{{1,3}}([^\W\d_][\w'’-]{{0,24}})\.?)?"
)
_SLASHED = re.compile(rf"{_SPACE}{{0,2}}[/-]{_SPACE}{{0,2}}\d{{1,4}}")
_WINDOW = 32  # characters before a number that can hold its label
_FIXED = re.compile(
    r"(?<![\w-])\d{2}-\d{3}(?![\w-])"  # Polish postcodes "00-238"
    r"|\d{1,2}月\d{1,2}日|\d{1,4}年"  # ja/zh dates
    r"|(?<![\w.,])\d{1,3}(?:[.,]\d{1,2})?[ \t]{0,2}(?:[₺₴円元]|р\.)"
)


@dataclass(frozen=True)
class NumberWords:
    """What a number's neighbourhood says: the word after it, that word's dot and the next."""

    first: str
    first_dot: bool
    second: str
    dotted: bool = False  # "3. Dez.": a dot right after the number (a German ordinal date)


@dataclass(frozen=True)
class NoiseRule:
    """A named kind of number that is never a score, told by the words beside it."""

    name: str
    description: str
    after: frozenset[str] = frozenset()  # a word after the number ("2 agents")
    before: frozenset[str] = frozenset()  # a word before it ("Unit 5")

    def check(self, words: NumberWords) -> str | None:
        """The reason the number with `words` after it is this noise, or None."""
        first = words.first.lower()
        if words.dotted and self.name != "month_date":
            return None  # "9. Мастер пришёл": the score ends a sentence
        if self.name == "month_date":
            hit = first in MONTH_NAMES or (words.first_dot and first in MONTH_ABBREVIATIONS)
        elif self.name == "duration":
            hit = first in DURATIONS or (first in QUALIFIERS and words.second.lower() in DURATIONS)
        elif self.name == "street_number":
            hit = words.first[:1].isupper() and words.second.lower() in STREET_WORDS
        else:
            hit = first in self.after
        return f"{self.name}: {words.first}" if hit else None


AFTER_RULES = (
    NoiseRule("duration", "'2 business days', '3 Tage', 'за 2 робочі дні', '25 min'"),
    NoiseRule("count", "'2 agents', '3 calls', '2 мастера', '2 techników', '3 Anrufe'", COUNTED),
    NoiseRule("month_date", "'12 нояб.', '3 gru.', '3. Dez.', '16 listopada'"),
    NoiseRule("price", "'35 dollars', '40 euros', '150 грн'", CURRENCIES),
    NoiseRule("street_number", "'12 Harbour Road'"),
)
BEFORE_RULES = (
    NoiseRule("address", "'Unit 5', 'ul. Długa 15/3', 'кв. 12', 'Hauptstr. 12'",
              before=BEFORE_ADDRESS),
    NoiseRule("case_number", "'case 4', 'order 12', 'заказ 7', 'Bestellung 5'",
              before=BEFORE_CASE),
)  # fmt: skip


def _blank(chars: list[str], start: int, end: int) -> None:
    for i in range(start, end):
        chars[i] = " "


def _word_before(text: str, start: int) -> str:
    """The word just before a number, without its dot and a "#", "№" or ":" ("Unit 5",
    "кв. 12", "case #4"), lower-cased; "" when a number or nothing stands there."""
    head = text[max(0, start - _WINDOW) : start].rstrip(" \t\u00a0").rstrip("#№:")
    head = head.rstrip(" \t\u00a0").rstrip(".")
    parts = head.rsplit(None, 1)
    word = parts[-1] if parts else ""
    return word.lower() if word[:1].isalpha() else ""


def mask(text: str) -> str:
    """`text` with every number the rules above say is no score blanked, offsets kept."""
    chars: list[str] | None = None
    for number in _DIGITS.finditer(text):
        start, end = number.span()
        if start and (text[start - 1].isalnum() or text[start - 1] in "_.,"):
            continue  # part of a word, a decimal or an id
        if start > 1 and text[start - 2].isdigit() and text[start - 1] == " ":
            continue  # one of a row of numbers ("0 1 2 … 10"): no label before it
        span: tuple[int, int] | None = None
        if end - start <= 3:
            after = _AFTER.match(text, end)
            if after is not None:
                words = NumberWords(
                    after.group(2), bool(after.group(3)), after.group(4) or "", bool(after.group(1))
                )
                if any(rule.check(words) for rule in AFTER_RULES):
                    span = (start, after.end())
        if span is None:
            word = _word_before(text, start)
            if (
                word in BEFORE_ADDRESS
                or word in BEFORE_CASE
                or (len(word) > 4 and word.endswith(_STREET_SUFFIXES))
            ):
                slashed = _SLASHED.match(text, end)
                span = (start, slashed.end() if slashed else end)
        if span is not None:
            chars = chars if chars is not None else list(text)
            _blank(chars, *span)
    for m in _FIXED.finditer(text):
        chars = chars if chars is not None else list(text)
        _blank(chars, m.start(), m.end())
    return text if chars is None else "".join(chars)

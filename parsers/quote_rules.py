"""The line rules that find where a reply's quoted original begins and where its signature
starts, in every language the common clients write them, each a named `Rule` over one line.

The strings come from the clients themselves: Gmail's and Apple Mail's "On … wrote:" per
language, Thunderbird's localized reply header (mailnews.reply_header_ondateauthorwrote) and
"-------- Original Message --------", Outlook's header labels and "-----Original Message-----"
per language, and the "Sent from my iPhone" footers of iOS. Every pattern is linear: bounded
repeats only, none nested, no two that can match the same run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from parsers.rules import first_reason

# The verb that ends a quote header: "… wrote:", "… a écrit :", "… napsal(a):", "… 写道："
_VERB_AT_END = (
    r"wrote|writes|sent|pisze|napisał\(a\)|napisała|napisał|napisal|nadesłał|написал\(а\)|"
    r"написала|написал|пишет|писал\(а\)|написав\(ла\)|написала|написав|пише|"
    r"schrieb|a écrit|a ecrit|escribió|escribio|ha scritto|schreef|het volgende geschreven|"
    r"geschreven|skrev|kirjoitti|napsal\(a\)|napsala|napsal|napísal\(a\)|napísal|escreveu|"
    r"yazdı|şunu yazdı|şunları yazdı|写道|寫道|のメール|wrote"
)
_VERB_ENDINGS = tuple(
    verb.replace("\\(", "(").replace("\\)", ")") for verb in _VERB_AT_END.split("|")
)


class _AuthorWrote:
    """'… wrote:' and its translations end the line (a suffix test, not a regex scan)."""

    name = "author_wrote"
    description = "'… wrote:', '… a écrit :', '… napsal(a):', '… 写道：' end the line"

    def check(self, line: str) -> str | None:
        head = line.rstrip().rstrip(":：").rstrip().lower()
        return self.name if head.endswith(_VERB_ENDINGS) and _word_start(head) else None


def _word_start(head: str) -> bool:
    """The verb that ends `head` starts a word ("… wrote", not "…rewrote")."""
    for verb in _VERB_ENDINGS:
        if head.endswith(verb):
            before = head[: -len(verb)][-1:]
            cjk = verb[:1] >= "\u3000"  # 写道, のメール: no spaces between words
            return cjk or not before or not before.isalnum()
    return False


# Languages that put the verb before the author: "Am … schrieb Name <a@b>:", "Op … schreef
# Name:", "Den … skrev Name:", "På … skrev Name:".
_VERB_BEFORE_NAME = re.compile(r"(?<!\w)(?:schrieb|schreef|skrev|kirjoitti)\s++\S", re.I)
_DIGIT = re.compile(r"\d")
# Gmail ru/uk/ja (no verb), Yandex, Mail.ru: a date, then an address, then a colon.
_ADDRESS_END = re.compile(r"<[^<>@\s]{1,200}@[^<>\s]{1,200}>\s*+\)?\s*+(?:のメール)?\s*+[:：]\s*+$")
_OT_NAME = re.compile(r"\d{1,2}:\d{2}[^\n]{0,120}?\s(?:от|від)\s", re.I)
_APPLE_PL = re.compile(r"^wiadomość napisana przez .{1,200}\d", re.I)
# Zoho: "---- On Mon, 16 Nov 2026 12:01:00 +0000 Name <a@b> wrote ----"
_DASHED = re.compile(rf"^-{{2,}}\s*+\S.{{0,250}}?(?:{_VERB_AT_END})\s*+-{{2,}}\s*+$", re.I)
_MAX_HEADER = 400


@dataclass(frozen=True)
class LineRule:
    """A named test over one stripped line of plain text."""

    name: str
    description: str
    pattern: re.Pattern[str]
    needs_digit: bool = False  # a date or time must stand in the line
    anywhere: bool = False  # searched in the line, else matched at its start

    def check(self, line: str) -> str | None:
        if self.needs_digit and not _DIGIT.search(line):
            return None
        found = self.pattern.search(line) if self.anywhere else self.pattern.match(line)
        return self.name if found else None


class _VerbBeforeName:
    name = "verb_before_author"
    description = "de/nl/sv/da/no: 'Am <date> schrieb <author>:' (the verb before the author)"

    def check(self, line: str) -> str | None:
        if not line.endswith((":", "：")):
            return None
        verb = _VERB_BEFORE_NAME.search(line)
        if verb is None or not _DIGIT.search(line, 0, verb.start()):
            return None
        return self.name


HEADER_RULES = (
    _AuthorWrote(),
    _VerbBeforeName(),
    LineRule("date_address_colon", "a date, then '<address>:' (Gmail ru/ja, Yandex)",
             _ADDRESS_END, needs_digit=True, anywhere=True),
    LineRule("mailru_ot", "Mail.ru: '<weekday>, <date> <time> от <author>:'", _OT_NAME,
             anywhere=True),
    LineRule("apple_mail_pl", "Apple Mail pl: 'Wiadomość napisana przez … w dniu …:'",
             _APPLE_PL),
)  # fmt: skip
DASHED_HEADER = LineRule("dashed_wrote", "Zoho: '---- On … wrote ----'", _DASHED, needs_digit=True)

# Separators: Outlook's "-----Original Message-----", Thunderbird's "-------- … --------",
# Gmail's forwarded marker, Apple Mail's "Begin forwarded message:", Outlook's rule.
_SEPARATOR_WORDS = (
    r"original message|reply message|forwarded message|исходное сообщение|"
    r"пересылаемое сообщение|переадресованное сообщение|оригинальное сообщение|"
    r"wiadomość oryginalna|oryginalna wiadomość|wiadomość przekazana|przekazana wiadomość|"
    r"ursprüngliche nachricht|weitergeleitete nachricht|originalnachricht|"
    r"message d'origine|message d’origine|message original|message transféré|"
    r"mensaje original|mensaje reenviado|messaggio originale|messaggio inoltrato|"
    r"mensagem original|mensagem encaminhada|oorspronkelijk bericht|doorgestuurd bericht|"
    r"ursprungligt meddelande|vidarebefordrat meddelande|oprindelig meddelelse|"
    r"videresendt meddelelse|opprinnelig melding|videresendt melding|původní zpráva|"
    r"přeposlaná zpráva|původní e-mail|оригінальне повідомлення|вихідне повідомлення|"
    r"початкове повідомлення|переслане повідомлення|özgün ileti|orijinal mesaj|"
    r"iletilen ileti|元のメッセージ|転送されたメッセージ|原始邮件|原始郵件|转发邮件|"
    r"alkuperäinen viesti|välitetty viesti"
)
_SEPARATOR = re.compile(
    rf"^\s*+(?:-{{2,}}\s*+(?:{_SEPARATOR_WORDS})\s*+-{{2,}}"
    r"|_{20,}|[\u2012-\u2015]{20,}"
    r"|(?:begin forwarded message|начало переадресованного (?:письма|сообщения)|"
    r"początek przekazywanej wiadomości|anfang der weitergeleiteten nachricht|"
    r"début du message réexpédié|inicio del mensaje reenviado|inizio messaggio inoltrato|"
    r"início da mensagem reencaminhada|begin doorgestuurd bericht|vidarebefordrat brev|"
    r"videresendt besked|початок пересланого повідомлення)\s*+:?)\s*+$",
    re.I,
)
SEPARATOR = LineRule("separator", "an original-message or forward separator line", _SEPARATOR)

# Outlook's header block: "From:" then, within a few lines, "Sent:"/"To:"/"Subject:".
OUTLOOK_FROM = re.compile(
    r"^\s*+\*?(?:from|от|od|von|de|da|van|fra|från|від|kimden|差出人|发件人|寄件者|보낸 사람)"
    r"\s*+\*?\s*+[:：]\*?\s*+\S",
    re.I,
)
OUTLOOK_NEXT = re.compile(
    r"^\s*+\*?(?:sent|date|to|subject|cc|отправлено|дата|кому|тема|копия|wysłano|wysłane|"
    r"data|do|temat|dw|gesendet|an|betreff|datum|envoyé|à|objet|date d'envoi|"
    r"enviado(?: el)?|para|asunto|fecha|inviato|a|oggetto|enviada|assunto|verzonden|aan|"
    r"onderwerp|skickat|till|ämne|kopia|sendt|til|emne|kopi|odesláno|komu|předmět|kopie|"
    r"надіслано|відправлено|копія|gönderildi|gönderim|kime|konu|tarih|bilgi|"
    r"送信日時|宛先|件名|发送时间|收件人|主题|日期|抄送|寄件日期|收件者|主旨)"
    r"\s*+\*?\s*+[:：]",
    re.I,
)

# Device and app footers, a short line of their own; "Sent from my desk, which is easier
# than my phone." is the sender's sentence.
_FOOTER_PREFIX = (
    r"sent from my|sent from|sent with|sent via|get outlook for|отправлено с|отправлено из|"
    r"отправлено через|wysłane z|wysłano z|wysłane przy użyciu|envoyé de mon|envoyé depuis|"
    r"envoyé avec|obtenir outlook pour|gesendet von|von meinem|gesendet mit|"
    r"outlook für|enviado desde mi|enviado desde|enviado do meu|enviado do|enviado com|"
    r"obtener outlook para|inviato da|inviato dal mio|scarica outlook per|verstuurd vanaf|"
    r"verzonden vanaf|verzonden met|verstuurd met|outlook voor|skickat från|skaffa outlook|"
    r"sendt fra|hent outlook|få outlook|odesláno z|odesláno ze|odeslano z|"
    r"надіслано з|надіслано від|надіслано із|отримати outlook|получить outlook|"
    r"pobierz aplikację outlook|ios için outlook|envoyé à partir de|verzonden vanuit|"
    r"skickades från|wysłano przy użyciu|отправлено из почты"
)
_FOOTER = re.compile(
    r"^\s*+(?:--|-- |—|__)\s*+$"
    rf"|^\s*+(?:{_FOOTER_PREFIX})(?:\s++[\w.'’&()-]+){{1,6}}\s*+[.!]?\s*+"
    r"(?:<https?://[^>\s]+>|\[https?://[^\]\s]+\])?\s*+$"  # Outlook's "for iOS<https://…>"
    r"|^\s*+[\w.-]{2,30}(?:'|’)?(?:umdan|ımdan|imden|umden|dan|den)\s++gönderildi\s*+[.!]?\s*+$"
    r"|^\s*+(?:my )?\w{2,20}\s*+から送信\s*+$"
    r"|^\s*+(?:发自我的|從我的|从我的)\s*+\w{2,20}(?:\s*+发送)?\s*+$"
    r"|^\s*+diese nachricht wurde von meinem [\w ]{2,60} gesendet\.?\s*+$"
    # "Von Mail für Windows gesendet"
    r"|^\s*+von [\w.'’-]{1,30}(?: [\w.'’-]{1,30}){0,4} gesendet\.?\s*+$",
    re.I,
)
FOOTER = LineRule("device_footer", "'-- ', 'Sent from my iPhone' and its translations", _FOOTER)

# Closing lines that start the sign-off: what follows them is the signature.
_SIGNOFF = re.compile(
    r"^\s*+(?:best regards|kind regards|warm regards|regards|best wishes|cheers|sincerely|"
    r"yours sincerely|yours truly|с уважением|с наилучшими пожеланиями|всего доброго|"
    r"всего хорошего|pozdrawiam(?: serdecznie)?|z poważaniem|z wyrazami szacunku|"
    r"serdecznie pozdrawiam|pozdrowienia|mit freundlichen grüßen|mit freundlichen grüssen|"
    r"freundliche grüße|viele grüße|beste grüße|liebe grüße|schöne grüße|mfg|lg|vg|"
    r"cordialement|bien cordialement|salutations|meilleures salutations|bien à vous|"
    r"saludos|un saludo|saludos cordiales|atentamente|cordialmente|cordiali saluti|"
    r"distinti saluti|saluti|atenciosamente|cumprimentos|met vriendelijke groet(?:en)?|"
    r"vriendelijke groet(?:en)?|groeten|med vänliga hälsningar|vänliga hälsningar|"
    r"hälsningar|mvh|med venlig hilsen|venlig hilsen|med vennlig hilsen|vennlig hilsen|"
    r"hilsen|s pozdravem|s úctou|з повагою|з найкращими побажаннями|saygılarımla|"
    r"iyi çalışmalar|敬具|よろしくお願いします|よろしくお願いいたします|此致|祝好)"
    r"\s*+[,.!]?\s*+$",
    re.I,
)
SIGNOFF = LineRule("signoff", "'Best regards', 'Mit freundlichen Grüßen', 'С уважением'…", _SIGNOFF)
# "Thanks," / "Спасибо," / "Danke," closing the message, alone or with a name on the line.
THANKS = re.compile(
    r"^\s*+(?:thanks|thank you|many thanks|thanks again|thx|best|all the best|спасибо|"
    r"благодарю|заранее спасибо|dziękuję|dzięki|pozdr\.?|danke|vielen dank|danke schön|"
    r"merci|merci beaucoup|gracias|muchas gracias|grazie|obrigad[oa]|bedankt|dank je|tack|"
    r"tak|takk|děkuji|дякую|teşekkürler|ありがとうございます|谢谢)\s*+[,.!]?"
    r"(?P<name>(?:\s++[^\W\d_][\w.'’-]{0,30}){0,2})\s*+[.!]?\s*+$",
    re.I,
)
# "-Abhishek Kona" closing a message: a dash glued to the name is a signature.
DASH_NAME = re.compile(r"^\s*+[-–—][^\W\d_][\w.'’-]{0,30}(?: [^\W\d_][\w.'’-]{0,30}){0,2}\s*+$")
NAME_LINE = re.compile(r"^\s*+[^\W\d_][\w.'’ -]{0,60}$")


def header_rule(line: str) -> str | None:
    """The name of the header rule `line` (stripped) matches, or None."""
    if len(line) > _MAX_HEADER or not line.endswith((":", "：")):
        return None
    found = first_reason(HEADER_RULES, line)
    return found[1] if found else None

"""The names, titles and comments `mailflow demo` draws from (en, ru, pl)."""

TEAMS = {
    "hardware": [
        ("Olga Petrova", "ru", 0.86),
        ("Tom Baker", "en", 0.9),
        ("Ivan Sokolov", "ru", 0.7),
    ],
    "billing": [
        ("Piotr Nowak", "pl", 0.85),
        ("Marta Wiśniewska", "pl", 0.93),
        ("Emma Clark", "en", 0.6),
    ],
    "network": [("James Reed", "en", 0.8), ("Anna Kowalczyk", "pl", 0.78)],
}  # first of each team is its manager; the number is how often their clients are happy
FIRST = {
    "en": ["Anna", "John", "Mary", "David", "Sarah", "Peter", "Laura", "Mark"],
    "ru": ["Алексей", "Мария", "Дмитрий", "Елена", "Сергей", "Наталья", "Игорь"],
    "pl": ["Katarzyna", "Tomasz", "Agnieszka", "Paweł", "Joanna", "Michał", "Ewa"],
}
LAST = {
    "en": ["Smith", "Jones", "Taylor", "Brown", "Wilson", "Evans"],
    "ru": ["Иванов", "Смирнов", "Кузнецов", "Попов", "Волков"],
    "pl": ["Kowalski", "Zieliński", "Lewandowski", "Wójcik", "Kamiński"],
}
TITLES = [
    "Printer does not print",
    "VPN keeps disconnecting",
    "Invoice shows a wrong amount",
    "New laptop setup",
    "Password reset",
    "E-mail not syncing on phone",
    "Wi-Fi slow in meeting room",
    "Refund for a double charge",
    "Scanner driver missing",
    "Access to the shared drive",
]
GOOD = {
    "en": ["Quick and polite, thank you!", "Solved in minutes."],
    "ru": ["Спасибо, всё быстро!", "Отличная работа."],
    "pl": ["Dziękuję, bardzo szybko!", "Świetna obsługa."],
}
BAD = {
    "en": ["Took far too long.", "Nobody called me back."],
    "ru": ["Слишком долго ждал.", "Проблема не решена."],
    "pl": ["Za długo to trwało.", "Problem nie został rozwiązany."],
}
QUARANTINE = [
    ("no_request_token", "No survey token in the message"),
    ("ambiguous_score", "Two numbers in the reply: 7 and 9"),
    ("unreadable_mime", "Broken MIME structure"),
    ("no_score", "No score found in the reply text"),
]

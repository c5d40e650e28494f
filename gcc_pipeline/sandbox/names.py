"""Word lists for the synthetic company, plus the cheap hash that picks from them.

Payloads are rendered lazily, so every per-record choice is a pure function of (seed, record index)
computed with a splitmix64 hash instead of a stored RNG state.
"""

from __future__ import annotations

_M64 = (1 << 64) - 1


def mix(x: int) -> int:
    """splitmix64 finaliser: a fast, well-spread 64-bit hash of an int."""
    x = (x + 0x9E3779B97F4A7C15) & _M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _M64
    return x ^ (x >> 31)


_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


_PAIRS = [a + b for a in _DIGITS for b in _DIGITS]


def b36(n: int) -> str:
    """Base-36 digits of a non-negative int (two digits per step: jnids are rendered per record)."""
    out = []
    while n >= 36:
        n, r = divmod(n, 1296)
        out.append(_PAIRS[r])
    s = "".join(reversed(out))
    return (_DIGITS[n] + s) if n or not s else s.lstrip("0") or "0"


# The first customers get names tests look for (apostrophes, accents, the owners' test record
# "Jane Tester" in the spellings a real account ends up with): (first, last, display name).
SPECIAL_NAMES = (
    ("Jane", "Tester", "Jane Tester"), ("José", "Peña", "José Peña"),
    ("jane", "TESTER", "jane  TESTER"), ("Zoë", "O'Brien", "Zoë O'Brien"),
    ("Jane", "Tester Jr", "Jane Tester Jr"), ("Siobhán", "D'Angelo", "Siobhán D'Angelo"),
)  # fmt: skip
FIRST_NAMES = (
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David",
    "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah",
    "Charles", "Karen", "Christopher", "Lisa", "Daniel", "Nancy", "Matthew", "Betty", "Anthony",
    "Sandra", "Mark", "Ashley", "Donald", "Kimberly", "Steven", "Emily", "Andrew", "Donna", "José",
    "María", "Zoë", "Renée", "Chloé", "André", "Hannah", "Luis", "Sofía", "Jamal", "Aaliyah", "Wei",
    "Priya", "Sean", "Siobhán", "Connor", "D'Andre", "Mei", "Nguyen", "Olga", "Björn",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore",
    "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark",
    "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott",
    "O'Brien", "O'Neil", "D'Angelo", "Peña", "Muñoz", "Núñez", "Müller", "Brontë", "St. James",
    "Van der Berg", "Nguyen", "Patel", "Kim", "Chen", "McAllister", "Smith-Jones",
)  # fmt: skip
COMPANIES = (
    "", "", "", "", "", "", "Keller Williams", "RE/MAX Alliance", "State Farm", "Allstate",
    "Acme Property Mgmt", "Smith & Sons LLC", "O'Hara Realty", "Peña Holdings",
)  # fmt: skip
SOURCES = (
    ("Door Knocking", 22), ("Google", 18), ("Referral", 16), ("Facebook", 10), ("Home Show", 4),
    ("Yard Sign", 6), ("Repeat Customer", 7), ("Insurance Agent", 6), ("Website", 8), ("Angi", 3),
)  # fmt: skip
STREETS = (
    "Main St", "Oak Ave", "Maple Dr", "Cedar Ln", "Pine St", "Elm St", "Washington Blvd",
    "Lakeview Dr", "Sunset Blvd", "Ridge Rd", "Hillcrest Ave", "Park Pl", "Meadow Ln", "Church St",
    "Mill Rd", "Highland Ave", "Forest Dr", "Spring St", "Willow Way", "Prairie Rd",
)  # fmt: skip
CITIES = (
    ("Denver", "CO", "802", 39.74, -104.99), ("Aurora", "CO", "800", 39.73, -104.83),
    ("Colorado Springs", "CO", "809", 38.83, -104.82), ("Dallas", "TX", "752", 32.78, -96.80),
    ("Plano", "TX", "750", 33.02, -96.70), ("Fort Worth", "TX", "761", 32.75, -97.33),
    ("Oklahoma City", "OK", "731", 35.47, -97.52), ("Wichita", "KS", "672", 37.69, -97.34),
    ("Omaha", "NE", "681", 41.26, -95.94), ("Boulder", "CO", "803", 40.01, -105.27),
)  # fmt: skip
# Second lines of some status-change notes (a note is free text; its first line is the change).
NOTE_SECOND_LINES = (
    "Changed from the mobile app",
    "Customer signed on site.\nCrew notified",
    "Automation: moved by the insurance workflow",
)
NOTES = (
    "Left voicemail, will call back.",
    "Homeowner asked about financing options.",
    "Adjuster meeting went well; waiting on scope.",
    "Customer prefers text messages.",
    "Dropped off samples: Owens Corning Duration, Driftwood.",
    "HOA approval needed before install.",
    "Gate code 1234#, dog in backyard.",
    "Crew lead: check flashing on chimney.",
    'Customer says "thanks!" — very happy with the crew.',
    "Spoke with Mrs. O'Brien about the gutter guards.",
)
SUPPLIERS = (
    "ABC Supply Co.", "Beacon Roofing Supply", "SRS Distribution", "Gulfeagle Supply",
    "Allied Building Products", "84 Lumber",
)  # fmt: skip
MATERIALS = (
    ("OC-DUR-DRIFT", "BD", 38.5, 52.0), ("GAF-HDZ-CHAR", "BD", 41.25, 55.0),
    ("IWS-2SQ", "RL", 62.0, 85.0), ("SYN-UL-10SQ", "RL", 78.0, 99.0),
    ("DRIP-10FT", "EA", 6.45, 9.5),
    ("RIDGE-VENT-4", "EA", 11.2, 16.0), ("NAIL-COIL-1.25", "BX", 44.9, 60.0),
    ("GUTTER-6K-WHT", "LF", 2.35, 6.5), ("SIDING-LP-8", "SQ", 145.0, 210.0),
    ("WIN-DH-3636", "EA", 289.0, 420.0),
)  # fmt: skip
LABOR_ITEMS = ("labor", "labor", "labor", "subcontractor", "disposal", "permit", "equipment")
WO_STATUSES = ("Scheduled", "Completed")
MO_STATUSES = ("Draft", "Submitted")

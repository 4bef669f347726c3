"""Names, services and vendors the seed draws from: plausible for US residential and light-commercial
construction, with apostrophes and accents on purpose (they break naive QuickBooks queries)."""

from __future__ import annotations

from decimal import Decimal

COMPANY_NAMES = [
    "Summit Ridge Builders",
    "Cascade Framing & Roofing",
    "Ironwood Custom Homes",
    "Blue Mesa Remodeling",
    "Harbor Point Construction",
    "Redwood Valley Contractors",
    "Granite State Renovations",
    "Desert Sun Builders",
    "Northstar Design-Build",
    "Lakeshore Concrete & Masonry",
]

GIVEN_NAMES = [
    "Amy",
    "José",
    "Zoë",
    "Liam",
    "Chloé",
    "Mateo",
    "Siobhán",
    "Noah",
    "Renée",
    "Ava",
    "Björn",
    "Priya",
    "Seán",
    "Olivia",
    "François",
    "Emma",
    "Dmitri",
    "Inés",
    "Lucas",
    "Mía",
    "Kenji",
    "Grace",
    "Raúl",
    "Nora",
]
FAMILY_NAMES = [
    "O'Brien",
    "Núñez",
    "García",
    "D'Angelo",
    "Smith",
    "Müller",
    "Nguyen",
    "O'Connor",
    "Peña",
    "Johnson",
    "Castañeda",
    "Williams",
    "Brown",
    "L'Heureux",
    "Kowalski",
    "Patel",
    "Fernández",
    "McAllister",
    "Søren",
    "Chen",
    "Dubois",
    "Reyes",
    "Ó Súilleabháin",
    "Martin",
]
BUSINESS_CUSTOMERS = [
    "Amy's Bird Sanctuary",
    "Café Olé Coffee House",
    "O'Malley & Daughters Property Mgmt",
    "Château Ridge Winery",
    "Smith & Sons Development, LLC",
    "Peña Family Dental",
    "Muñoz Auto Body",
    "St. Mary's Parish Hall",
    "Ångström Optical",
    "Joe's Diner",
    "Hillside HOA",
    "Gómez Orchards",
    "Riverside Montessori",
    "The Crêperie",
    "Baker's Dozen Bakery",
    "Lakeview Medical Partners",
]

CITIES = [
    ("Sacramento", "CA", "958", Decimal("0.0875")),
    ("Bend", "OR", "977", Decimal("0")),
    ("Boise", "ID", "837", Decimal("0.06")),
    ("Reno", "NV", "895", Decimal("0.0827")),
    ("Phoenix", "AZ", "850", Decimal("0.086")),
    ("Denver", "CO", "802", Decimal("0.0881")),
    ("Austin", "TX", "787", Decimal("0.0825")),
    ("Portland", "OR", "972", Decimal("0")),
]
STREETS = [
    "Elm St",
    "Oak Ave",
    "Cedar Ln",
    "Mission Blvd",
    "Ridge Rd",
    "Rue de la Paix",
    "Calle Real",
    "Main St",
]

# (item code, description, unit, unit price range in dollars, taxable)
SERVICES: list[tuple[str, str, str, tuple[int, int], bool]] = [
    ("FRAMING-LABOR", "Framing labor", "hr", (65, 95), False),
    ("DEMO", "Demolition and haul-away", "hr", (55, 80), False),
    ("DRYWALL", "Drywall hang, tape and finish", "sqft", (2, 4), False),
    ("ELEC-ROUGH", "Electrical rough-in", "hr", (90, 130), False),
    ("PLUMB-ROUGH", "Plumbing rough-in", "hr", (95, 140), False),
    ("CONCRETE", "Concrete, 3000 psi, placed", "cu yd", (150, 210), True),
    ("LUMBER", "Dimensional lumber package", "ea", (400, 4200), True),
    ("ROOF-SHINGLE", "Architectural shingles, installed", "sq", (350, 600), True),
    ("CABINETS", "Kitchen cabinets, supplied", "ea", (1800, 12500), True),
    ("TILE", "Porcelain tile, supplied and set", "sqft", (9, 22), True),
    ("PAINT-INT", "Interior painting", "sqft", (2, 5), False),
    ("PERMIT", "Building permit (pass-through)", "ea", (250, 2400), False),
    ("DUMPSTER", "20-yard dumpster rental", "ea", (450, 750), True),
    ("CHANGE-ORDER", "Change order: owner-requested upgrade", "ea", (300, 5500), True),
    ("SUPERVISION", "Project supervision", "hr", (75, 110), False),
]

PROJECT_KINDS = [
    "Kitchen remodel",
    "Primary bath remodel",
    "ADU build",
    "Roof replacement",
    "Deck and pergola",
    "Basement finish",
    "Tenant improvement",
    "Garage conversion",
    "Whole-house repaint",
    "Foundation repair",
]

VENDORS: list[tuple[str, str]] = [
    ("Home Depot Pro", "materials"),
    ("Lowe's Pro Supply", "materials"),
    ("Ferguson Plumbing Supply", "materials"),
    ("84 Lumber", "materials"),
    ("Sunbelt Rentals", "equipment_rental"),
    ("United Rentals", "equipment_rental"),
    ("García Drywall Crew", "subcontractor"),
    ("O'Neil Electric", "subcontractor"),
    ("City Building Dept.", "permits_fees"),
    ("Chevron", "fuel"),
    ("Harbor Freight Tools", "tools"),
    ("Hartford Contractor Insurance", "insurance"),
    ("Staples", "office"),
]

TERMS = [("Net 15", 15), ("Net 30", 30), ("Due on receipt", 0), ("Net 45", 45)]

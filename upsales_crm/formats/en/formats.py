"""One date/time format on every page (the templates use these names): 24-hour times, day
before month. Swedish: ``upsales_crm/formats/sv``."""

DATE_FORMAT = "D j M Y"  # Fri 4 Dec 2026
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "D j M Y H:i"
SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
MONTH_DAY_FORMAT = "j M"
YEAR_MONTH_FORMAT = "F Y"
FIRST_DAY_OF_WEEK = 1

"""Swedish dates and times (see ``upsales_crm/formats/en``): fre 4 dec. 2026 14:00."""

DATE_FORMAT = "D j b Y"  # fre 4 dec 2026
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "D j b Y H:i"
SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
MONTH_DAY_FORMAT = "j b"
YEAR_MONTH_FORMAT = "F Y"
FIRST_DAY_OF_WEEK = 1
# What a Swedish page reads from a typed date or time (see ``appointments/widgets.py``); the
# first is also how a date is written into a field. ``app.js`` tidies 930 → 09:30 as it is typed.
DATE_INPUT_FORMATS = ["%Y-%m-%d", "%Y%m%d", "%y%m%d", "%y-%m-%d"]
TIME_INPUT_FORMATS = ["%H:%M", "%H.%M", "%H%M", "%H:%M:%S"]

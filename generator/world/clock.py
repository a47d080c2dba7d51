"""The generator's unit of time: moments are seconds since the epoch (UTC), durations seconds."""

MINUTE = 60
HOUR = 3_600
DAY = 86_400

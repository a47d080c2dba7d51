"""Backups of the local stack with pgBackRest (``backup/`` holds its config template): the
configuration the stack renders, the commands behind `bazaar backup`, restores that never touch
the live cluster, verification by restoring, the masked staging copy, and the schedule.
docs/adr/0012-backups.md says why it is built this way.
"""

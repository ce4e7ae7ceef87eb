"""Front-desk duty (R-DUTY): the roster 《排班表》 (`roster`), sign-in and sign-out with lateness, absence and the
missing relief (`attendance`), leave and swap requests decided by the supervisor (`requests`); the information
log, handovers, checks and the daily check sheet."""

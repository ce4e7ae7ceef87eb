"""The archive room 《资料室》 (DOMAIN.md R-ARC): the files register by class, retention period and confidentiality
level; loans of at most one day (longer, outside the company, or above the borrower's level: the CS centre approves
first), with the borrower's "no copying" acknowledgement and signature; overdue loans; destruction of expired files
after the department manager approves; the quarterly completeness check; the access register."""

"""The service desk (DOMAIN.md R-REP, R-CLN, R-FB, R-PHONE): repair and cleaning orders, feedback forms, the call
log and the calls the desk owes residents, the price list and the registers, each process declared as data in
`processes` on the shared workflow machinery."""

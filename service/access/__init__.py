"""Just-in-time access: a person asks for one of a clean room's roles for some hours, another person
approves, and the grant is declared in the program, so AWS itself refuses the role from its expiry on."""

"""Day-zero program: the forensics OU, its service control policies, the forensic accounts moved in."""

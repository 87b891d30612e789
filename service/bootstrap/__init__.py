"""Day zero: the programs that build what the service needs before its first clean room (the forensic
accounts' deploy roles and guardrails), run through the Automation API, and the settings they imply."""

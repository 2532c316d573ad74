"""What every package may lean on and none of them owns: the station clock corrected by the
CSMS (`clock`), the one SQLite database with its migrations (`database`), small persisted
facts and key values (`state`), the scrubbing that keeps secrets out of every output
(`secrets`), the one-process-per-data-directory lock (`lock`) and the check that a path still
names the file opened (`inode`). No OCPP message is built here."""

"""File transfer over HTTP(S) and FTP for firmware downloads and diagnostics uploads (§8).

Transfers stream between the network and disk in small blocks, so memory stays flat whatever
the file's size; a download resumes where an earlier one stopped when the server allows it.
Each failed attempt is a TransferFailed naming its cause in one line, never a URL's password.
"""

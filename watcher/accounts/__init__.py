"""Editors' accounts: ``Accounts`` (editors, sign-in, sessions, the setup link, API tokens)
and ``passwords`` (argon2id, tokens and the sign-in rules, pure). ``store`` is what it
needs of the database."""

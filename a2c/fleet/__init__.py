"""Many hosts at once: the remote targets a user configured (from flags, an Ansible inventory or an
OpenSSH config), the runner that visits them with bounded concurrency, timeouts and retries, and
the fleet summary drawn from what each host told.

Nothing here prints: the steps report through ``env.reporter`` and the CLI renders.
"""

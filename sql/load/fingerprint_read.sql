SELECT fingerprint FROM gcc_fingerprints WHERE name = %(name)s

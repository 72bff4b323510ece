-- Self-registration on a verified domain with automatic provisioning: the request, whose
-- link (only its hash is kept) confirms it within a day.
CREATE TABLE signups (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    domain_id TEXT NOT NULL,
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    confirmed_at TEXT,
    user_id TEXT
);
CREATE INDEX signups_org_email ON signups(org_id, email);

-- Email domains of organizations. A domain is verified by a DNS TXT record holding its
-- token; at most one organization holds a verified domain (the partial unique index).
CREATE TABLE domains (
    seq BIGSERIAL PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    domain TEXT NOT NULL,
    token TEXT NOT NULL,
    verified_at TEXT,
    auto_provision INTEGER NOT NULL DEFAULT 0,
    default_site_id TEXT NOT NULL DEFAULT '',
    default_role TEXT NOT NULL DEFAULT 'viewer',
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL
);
CREATE UNIQUE INDEX domains_org_domain ON domains(org_id, domain);
CREATE UNIQUE INDEX domains_verified ON domains(domain) WHERE verified_at IS NOT NULL;

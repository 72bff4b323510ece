-- What an organization's plan allows (set by operators with `scimd org update`), and when
-- an account last signed in (recorded by the host application) for access reviews.
ALTER TABLE organizations ADD COLUMN seat_limit INTEGER;
ALTER TABLE organizations ADD COLUMN features TEXT NOT NULL DEFAULT '';
ALTER TABLE organizations ADD COLUMN unverified_domain_policy TEXT NOT NULL DEFAULT 'invite';
ALTER TABLE organizations ADD COLUMN invitation_days INTEGER NOT NULL DEFAULT 7;
ALTER TABLE users ADD COLUMN last_sign_in TEXT;

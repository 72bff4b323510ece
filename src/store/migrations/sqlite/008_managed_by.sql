-- Which IdP manages an account ("scim_token:<id>"), once one does: accounts that invitations,
-- sign-ups or the command line made are unmanaged until an IdP adopts them.
ALTER TABLE users ADD COLUMN managed_by TEXT;
-- An account that the policy for unverified domains ("invite") holds back: it has no access
-- until the person accepts the invitation mailed to its address.
ALTER TABLE users ADD COLUMN access_pending INTEGER NOT NULL DEFAULT 0;

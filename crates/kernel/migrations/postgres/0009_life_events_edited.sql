-- The navigator's edits are marked in the tenant's profile itself, so that
-- loading tenant.json again keeps them without reading the navigator's
-- tables: profiles with a published version get the marker.
UPDATE tenants SET profile = (profile::jsonb || '{"life_events_edited": true}'::jsonb)::text
WHERE tenant IN (SELECT DISTINCT tenant FROM navi_versions);

-- The navigator's edits are marked in the tenant's profile itself, so that
-- loading tenant.json again keeps them without reading the navigator's
-- tables: profiles with a published version get the marker.
UPDATE tenants SET profile = json_set(profile, '$.life_events_edited', json('true'))
WHERE tenant IN (SELECT DISTINCT tenant FROM navi_versions);

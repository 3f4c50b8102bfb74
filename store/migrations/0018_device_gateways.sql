-- A city's gateways (issue 15): a gateway relays the readings of many devices in one message on
-- city/<city>/gateway/<gateway> (100–500 readings a message), and ingest stores a reading from it
-- only for a device registered behind that gateway (NULL: the device publishes on its own topics
-- only). The broker pins the topic to the gateway's account (ingest/broker_acl.py); this column
-- pins the devices to the gateway. The grants of 0008 cover it (they are table grants).
ALTER TABLE devices ADD COLUMN gateway text;

-- Accounts issued before: ingest reads the gateway topics too, a bridge may publish them, and a
-- gateway its own (as ingest/broker_acl.py now issues them); the broker's files follow at the next
-- rebuild (the trigger of 0009 wakes it).
UPDATE broker_accounts SET subscribe = subscribe || ARRAY(
    SELECT regexp_replace(t, '/status/\+$', '/gateway/+') FROM unnest(subscribe) t WHERE t ~ '^city/[^/]+/status/\+$')
 WHERE kind = 'ingest' AND NOT EXISTS (SELECT 1 FROM unnest(subscribe) t WHERE t ~ '/gateway/');
UPDATE broker_accounts SET publish = publish || ARRAY(
    SELECT regexp_replace(t, '/status/\+$', '/gateway/+') FROM unnest(publish) t WHERE t ~ '^city/[^/]+/status/\+$')
 WHERE kind = 'bridge' AND NOT EXISTS (SELECT 1 FROM unnest(publish) t WHERE t ~ '/gateway/');
UPDATE broker_accounts SET publish = ARRAY['city/' || substring(publish[1] FROM '^city/([^/]+)/') || '/gateway/'
                                           || username] || publish
 WHERE kind = 'gateway' AND publish[1] ~ '^city/[^/]+/' AND NOT EXISTS (SELECT 1 FROM unnest(publish) t WHERE t ~ '/gateway/');

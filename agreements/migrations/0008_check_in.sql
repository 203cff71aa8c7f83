-- The current version's check-in schedule, on the agreement's own row
-- (as JSON, the terms' "check_in"): a scheduler pass reads it for each
-- agreement whose round is due, and this spares it reading and decoding
-- the whole version of each. insertVersion writes it with each version.

ALTER TABLE agreements ADD COLUMN check_in TEXT NOT NULL DEFAULT '';

UPDATE agreements SET check_in = coalesce((SELECT json_extract(v.terms, '$.check_in') FROM versions v
	WHERE v.agreement_id = agreements.id AND v.number = agreements.version), '');

-- The one reminder to confirm a version and its expiry run on the timers
-- (kind 'confirm'), like the rest of the timed work, instead of a scan of
-- every pending agreement each minute. Each agreement that waits for
-- confirmation gets a timer due at once: its first firing sets the next
-- from the version's age and the configuration. The seq values are above
-- any a pass sets, so they cannot clash.

INSERT INTO timers (at, seq, agreement_id, kind, gen)
	SELECT v.created_at, 1000000000000 + a.id, a.id, 'confirm', a.timer_gen
	FROM agreements a JOIN versions v ON v.agreement_id = a.id AND v.number = a.version
	WHERE a.status = 'pending';

-- An amendment of an agreement in force waits for every party's
-- confirmation while the version they confirmed stays in force (design
-- F2): proposed is the number of the version that waits, 0 for none.
ALTER TABLE agreements ADD COLUMN proposed INTEGER NOT NULL DEFAULT 0;

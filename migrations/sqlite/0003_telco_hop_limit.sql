-- Each telco's own ceiling on the hops it may send one gateway node per second, set with
-- `mgov telcos add/update --max-hops-per-second`; existing telcos keep the ceiling that
-- applied to every telco before (50000).
ALTER TABLE telcos
    ADD COLUMN max_hops_per_second INTEGER NOT NULL DEFAULT 50000
        CHECK (max_hops_per_second > 0);

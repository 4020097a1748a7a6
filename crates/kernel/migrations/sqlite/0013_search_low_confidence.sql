-- Why a query is in the staff's list: it found nothing (no_results), or
-- it was answered with little of the question matched (low_confidence).
ALTER TABLE search_misses ADD COLUMN reason TEXT NOT NULL DEFAULT 'no_results';

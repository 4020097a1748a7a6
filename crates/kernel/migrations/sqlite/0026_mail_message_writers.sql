-- Everyone who wrote a newsletter message: its author, then each staff
-- member who edited or submitted it (comma-separated staff ids). None of
-- them may approve it (mail::newsletters::store::approve): a second
-- person is someone who did not write what they approve.
ALTER TABLE mail_messages ADD COLUMN writers TEXT NOT NULL DEFAULT '';
UPDATE mail_messages SET writers = author;

-- Sign-up dates (issue 12): an imported subscriber's created_at is the
-- sign-up date the file gives (SendinBlue's ADDED_TIME, "Date
-- d'inscription"), so that the history and the reports count the person
-- in the quarter they signed up in; imported_at keeps when the import
-- brought them in. NULL for subscribers that no import created.
ALTER TABLE subscribers ADD COLUMN imported_at TIMESTAMPTZ;

-- One table for every emailed code (docs/accounts.md, docs/passwords.md): reset codes join the
-- verification and email-change codes in email_codes under the purpose 'reset', with their hash,
-- expiry, tries and use carried over, so a code mailed before the deploy still works after it;
-- their budgets already live in code_events under 'reset'. Apply with the worker that reads reset
-- codes from email_codes (the one before it reads password_resets, which this drops).
-- (`WHERE true`: SQLite would otherwise read the upsert's ON as a join's.)
INSERT INTO email_codes (user_id, purpose, code_hash, new_email, issued_at, expires_at, wrong_attempts, used_by)
    SELECT user_id, 'reset', code_hash, NULL, issued_at, expires_at, wrong_attempts, used_by
    FROM password_resets WHERE true
    ON CONFLICT (user_id, purpose) DO NOTHING;
DROP TABLE password_resets;

import Persistence

extension DomainMigrations {
    /// Reminder dispatch (version 5): reminders derived from `slots` by the planner, the default message templates,
    /// the shared Telegram rate limit, unreachable candidates, and the NOTIFY that wakes the planner.
    ///
    /// - `reminders` replaces `sent_reminders`: one row per (slot, offset, the start it was planned for), so a moved
    ///   slot gets new rows and the old ones end `skipped`/`moved`. States: `planned` → `sending` (recorded in its
    ///   own short transaction before the HTTP call) → `sent` (with Telegram's `message_id`), or `skipped`/`failed`
    ///   with a reason. A row left in `sending` by a crash is sent again (at-least-once).
    /// - `message_templates` gets the default texts as rows operators edit (no built-in text in the binary):
    ///   `reminder.24h`, `reminder.2h`, `reminder` (any other offset) and `reservation.lapsed`.
    /// - `cities.address`, `slots.address`, `slots.link` and `users.locale` feed the placeholders `{address}`,
    ///   `{link}` and the per-locale template choice.
    /// - `telegram_send_limits` (one row per limit) and `telegram_chat_limits` (one per chat) are the Bot API
    ///   limits shared by every worker: `telegram_reserve_send` hands out send instants spaced by the global rate,
    ///   at least the chat gap apart per chat, at most a few seconds ahead, in one short statement.
    /// - A statement-level trigger on `slots` NOTIFYs `slotworker_slots` when bookings may have changed; planners
    ///   LISTEN and plan at once (one notification per transaction, whatever the number of rows).
    static let reminderDispatch = Migration(
        version: 5,
        name: "reminder_dispatch",
        sql: """
            DROP TABLE sent_reminders;

            ALTER TABLE cities ADD COLUMN address text
                CONSTRAINT cities_address_check CHECK (btrim(address) <> '');
            ALTER TABLE slots ADD COLUMN address text CONSTRAINT slots_address_check CHECK (btrim(address) <> ''),
                ADD COLUMN link text CONSTRAINT slots_link_check CHECK (btrim(link) <> '');
            ALTER TABLE users ADD COLUMN locale text
                CONSTRAINT users_locale_check CHECK (locale ~ '^[a-z]{2,3}(-[A-Z]{2})?$');

            CREATE TABLE reminders (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                slot_id bigint NOT NULL REFERENCES slots (id) ON DELETE CASCADE,
                offset_seconds integer NOT NULL CONSTRAINT reminders_offset_check CHECK (offset_seconds > 0),
                -- The start instant this reminder was planned for; the slot may have moved since.
                starts_at timestamptz NOT NULL,
                due_at timestamptz NOT NULL,
                state text NOT NULL DEFAULT 'planned' CONSTRAINT reminders_state_check
                    CHECK (state IN ('planned', 'sending', 'sent', 'skipped', 'failed')),
                -- skipped: late, moved, not_booked, unreachable, template_error; failed: the error class.
                reason text,
                chat_id bigint,
                message_id bigint,
                attempts integer NOT NULL DEFAULT 0,
                last_error text,
                created_at timestamptz NOT NULL DEFAULT now(),
                updated_at timestamptz NOT NULL DEFAULT now(),
                sent_at timestamptz,
                CONSTRAINT reminders_identity_key UNIQUE (slot_id, offset_seconds, starts_at),
                CONSTRAINT reminders_reason_check CHECK ((state IN ('skipped', 'failed')) = (reason IS NOT NULL)),
                CONSTRAINT reminders_sent_check CHECK ((state = 'sent') = (sent_at IS NOT NULL))
            );
            CREATE INDEX reminders_open_idx ON reminders (due_at) WHERE state IN ('planned', 'sending');

            -- Candidates the Bot API refused for good (403 blocked/deactivated, 400 chat not found). Delete the row
            -- to try them again.
            CREATE TABLE unreachable_candidates (
                telegram_id bigint PRIMARY KEY
                    CONSTRAINT unreachable_candidates_telegram_id_check CHECK (telegram_id > 0),
                reason text NOT NULL,
                marked_at timestamptz NOT NULL DEFAULT now()
            );

            CREATE TABLE telegram_send_limits (
                name text PRIMARY KEY,
                -- The earliest instant the next message may go.
                next_at timestamptz NOT NULL DEFAULT '-infinity',
                -- >= 1: the spacing is multiplied by it; doubled by a 429, decays by 2% per message.
                slowdown double precision NOT NULL DEFAULT 1 CONSTRAINT telegram_send_limits_slowdown_check
                    CHECK (slowdown >= 1)
            );
            INSERT INTO telegram_send_limits (name) VALUES ('sendMessage');

            CREATE TABLE telegram_chat_limits (
                chat_id bigint PRIMARY KEY,
                next_at timestamptz NOT NULL
            );
            CREATE INDEX telegram_chat_limits_next_at_idx ON telegram_chat_limits (next_at);

            -- Reserves the next send instant: at least the (slowed) spacing after the previous reservation of any
            -- worker, and at least chat_gap after the previous one to this chat. Nothing is reserved when the
            -- chat is not free by then, or when the instant is more than max_wait away (a backlog): retry_ms then
            -- says when to ask again. The global row is locked first, so reservations are serialized and the chat
            -- check cannot race. Durations are relative to the database clock, so workers' clocks do not matter.
            CREATE FUNCTION telegram_reserve_send(
                p_limit text, p_chat bigint, p_spacing_ms double precision, p_chat_gap_ms double precision,
                p_max_wait_ms double precision
            ) RETURNS TABLE (wait_ms double precision, retry_ms double precision)
            LANGUAGE plpgsql AS $$
            DECLARE
                t timestamptz := clock_timestamp();
                lim telegram_send_limits%ROWTYPE;
                chat_next timestamptz;
                slot timestamptz;
            BEGIN
                SELECT * INTO lim FROM telegram_send_limits WHERE name = p_limit FOR UPDATE;
                IF NOT FOUND THEN
                    INSERT INTO telegram_send_limits (name) VALUES (p_limit) ON CONFLICT DO NOTHING;
                    SELECT * INTO lim FROM telegram_send_limits WHERE name = p_limit FOR UPDATE;
                END IF;
                slot := greatest(lim.next_at, t);
                IF slot > t + p_max_wait_ms * interval '1 millisecond' THEN
                    RETURN QUERY SELECT NULL::double precision,
                        extract(epoch FROM slot - t)::double precision * 1000 - p_max_wait_ms / 2;
                    RETURN;
                END IF;
                SELECT next_at INTO chat_next FROM telegram_chat_limits WHERE chat_id = p_chat;
                IF chat_next IS NOT NULL AND chat_next > slot THEN
                    RETURN QUERY SELECT NULL::double precision,
                        extract(epoch FROM chat_next - t)::double precision * 1000;
                    RETURN;
                END IF;
                UPDATE telegram_send_limits
                SET next_at = slot + p_spacing_ms * lim.slowdown * interval '1 millisecond',
                    slowdown = greatest(1, lim.slowdown * 0.98)
                WHERE name = p_limit;
                INSERT INTO telegram_chat_limits (chat_id, next_at)
                VALUES (p_chat, slot + p_chat_gap_ms * interval '1 millisecond')
                ON CONFLICT (chat_id) DO UPDATE SET next_at = EXCLUDED.next_at;
                RETURN QUERY SELECT extract(epoch FROM slot - t)::double precision * 1000, NULL::double precision;
            END
            $$;

            CREATE FUNCTION slots_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                PERFORM pg_notify('slotworker_slots', '');
                RETURN NULL;
            END
            $$;
            CREATE TRIGGER slots_notify_change
                AFTER INSERT OR UPDATE OF status, starts_at, candidate_telegram_id ON slots
                FOR EACH STATEMENT EXECUTE FUNCTION slots_notify_change();

            INSERT INTO message_templates (key, body) VALUES
                ('reminder.24h',
                 'Reminder: your interview with {recruiter} in {city} is tomorrow, {weekday} {date}, at {time} '
                 || '({duration} min).'),
                ('reminder.2h',
                 'Your interview with {recruiter} in {city} starts in 2 hours: {date} at {time} ({duration} min).'),
                ('reminder',
                 'Reminder: your interview with {recruiter} in {city} is on {weekday} {date} at {time} '
                 || '({duration} min).'),
                ('reservation.lapsed',
                 'Your reservation of the interview in {city} on {date} at {time} was not confirmed in time and has '
                 || 'lapsed. Please book a new slot.');
            """
    )
}

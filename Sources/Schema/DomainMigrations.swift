public import Persistence

/// The domain's migrations, versions 1–99: recruiters, cities, slots, message templates, users, sent reminders and
/// the slots' event log.
///
/// The constraints make rows the application would never write impossible to write at all, even from psql:
/// every status rule of ``Domain/SlotStatus`` is a CHECK or a trigger, names and keys are never blank, and
/// constraint names are stable because errors report them (`RepositoryError.conflict(constraint:)` and
/// `.validation(field:)` carry them). Triggers that reject a row raise SQLSTATE 23514 (check_violation) with a
/// constraint name, so they surface exactly like a CHECK.
///
/// A released migration is never edited: add a new version instead.
public enum DomainMigrations {
    /// Every domain migration in version order.
    public static let all: [Migration] = [
        recruitersAndCities,
        slots,
        templatesAndUsers,
        remindersAndSlotEvents,
        DomainMigrations.reminderDispatch,
        DomainMigrations.reminderHistory,
        DomainMigrations.reminderReplanning,
        DomainMigrations.reminderReservations,
    ]

    /// Recruiters, cities (with IANA time zones validated against PostgreSQL's tz database) and which recruiter
    /// works in which city.
    static let recruitersAndCities = Migration(
        version: 1,
        name: "recruiters_and_cities",
        sql: """
            CREATE TABLE recruiters (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                name text NOT NULL CONSTRAINT recruiters_name_check CHECK (btrim(name) <> ''),
                telegram_chat_id bigint CONSTRAINT recruiters_telegram_chat_id_key UNIQUE,
                active boolean NOT NULL DEFAULT true,
                created_at timestamptz NOT NULL DEFAULT now()
            );
            CREATE INDEX recruiters_active_name_idx ON recruiters (name) WHERE active;

            CREATE TABLE cities (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                name text NOT NULL
                    CONSTRAINT cities_name_check CHECK (btrim(name) <> '')
                    CONSTRAINT cities_name_key UNIQUE,
                time_zone text NOT NULL CONSTRAINT cities_time_zone_check CHECK (time_zone <> ''),
                active boolean NOT NULL DEFAULT true
            );

            -- A CHECK may not query a catalog, so a trigger validates the zone name against PostgreSQL's own tz
            -- database; it raises check_violation with a constraint name, like a CHECK would. Empty names are left
            -- to cities_time_zone_check.
            CREATE FUNCTION cities_validate_time_zone() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.time_zone <> '' AND NOT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = NEW.time_zone)
                THEN
                    RAISE EXCEPTION 'unknown IANA time zone "%"', NEW.time_zone
                        USING ERRCODE = 'check_violation', CONSTRAINT = 'cities_time_zone_valid',
                              TABLE = 'cities', COLUMN = 'time_zone';
                END IF;
                RETURN NEW;
            END
            $$;
            CREATE TRIGGER cities_validate_time_zone
                BEFORE INSERT OR UPDATE OF time_zone ON cities
                FOR EACH ROW EXECUTE FUNCTION cities_validate_time_zone();

            CREATE TABLE recruiter_cities (
                recruiter_id bigint NOT NULL REFERENCES recruiters (id) ON DELETE CASCADE,
                city_id bigint NOT NULL REFERENCES cities (id) ON DELETE CASCADE,
                PRIMARY KEY (recruiter_id, city_id)
            );
            CREATE INDEX recruiter_cities_city_id_idx ON recruiter_cities (city_id);
            """
    )

    /// Interview slots: status rules as CHECKs, transitions and `updated_at` by trigger, indexes for the
    /// background tasks' queries.
    static let slots = Migration(
        version: 2,
        name: "slots",
        sql: """
            CREATE TABLE slots (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                -- RESTRICT: a recruiter or city with slots is deactivated, not deleted.
                recruiter_id bigint NOT NULL REFERENCES recruiters (id) ON DELETE RESTRICT,
                city_id bigint NOT NULL REFERENCES cities (id) ON DELETE RESTRICT,
                starts_at timestamptz NOT NULL,
                duration_minutes integer NOT NULL
                    CONSTRAINT slots_duration_check CHECK (duration_minutes BETWEEN 1 AND 480),
                status text NOT NULL DEFAULT 'FREE'
                    CONSTRAINT slots_status_check
                    CHECK (status IN ('FREE', 'RESERVED', 'BOOKED', 'CONFIRMED', 'CANCELED', 'EXPIRED')),
                candidate_telegram_id bigint
                    CONSTRAINT slots_candidate_telegram_id_check CHECK (candidate_telegram_id > 0),
                reserved_until timestamptz,
                created_at timestamptz NOT NULL DEFAULT now(),
                updated_at timestamptz NOT NULL DEFAULT now(),
                -- A reservation deadline exists exactly while the slot is RESERVED.
                CONSTRAINT slots_reservation_check CHECK ((status = 'RESERVED') = (reserved_until IS NOT NULL)),
                -- RESERVED, BOOKED and CONFIRMED have a candidate; FREE has none; CANCELED and EXPIRED keep history.
                CONSTRAINT slots_candidate_check CHECK (
                    CASE status
                        WHEN 'FREE' THEN candidate_telegram_id IS NULL
                        WHEN 'RESERVED' THEN candidate_telegram_id IS NOT NULL
                        WHEN 'BOOKED' THEN candidate_telegram_id IS NOT NULL
                        WHEN 'CONFIRMED' THEN candidate_telegram_id IS NOT NULL
                        ELSE true
                    END
                )
            );

            -- A recruiter can't publish two live slots starting at the same instant.
            CREATE UNIQUE INDEX slots_recruiter_starts_at_key ON slots (recruiter_id, starts_at)
                WHERE status <> 'CANCELED';
            CREATE INDEX slots_city_id_idx ON slots (city_id);
            -- releaseLapsedReservations: RESERVED slots by deadline.
            CREATE INDEX slots_reserved_until_idx ON slots (reserved_until) WHERE status = 'RESERVED';
            -- expirePast (FREE/RESERVED before now) and upcomingBooked (BOOKED/CONFIRMED in a window).
            CREATE INDEX slots_status_starts_at_idx ON slots (status, starts_at);

            -- The transition table of SlotStatus.allowedTransitions (a test compares both).
            CREATE FUNCTION slot_status_transition_allowed(from_status text, to_status text) RETURNS boolean
            LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
                SELECT from_status = to_status OR (from_status, to_status) IN (
                    ('FREE', 'RESERVED'), ('FREE', 'CANCELED'), ('FREE', 'EXPIRED'),
                    ('RESERVED', 'FREE'), ('RESERVED', 'BOOKED'), ('RESERVED', 'CANCELED'), ('RESERVED', 'EXPIRED'),
                    ('BOOKED', 'CONFIRMED'), ('BOOKED', 'FREE'), ('BOOKED', 'CANCELED'),
                    ('CONFIRMED', 'FREE'), ('CONFIRMED', 'CANCELED')
                )
            $$;

            CREATE FUNCTION slots_before_update() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NOT slot_status_transition_allowed(OLD.status, NEW.status) THEN
                    RAISE EXCEPTION 'slot % cannot go from % to %', OLD.id, OLD.status, NEW.status
                        USING ERRCODE = 'check_violation', CONSTRAINT = 'slots_status_transition',
                              TABLE = 'slots', COLUMN = 'status';
                END IF;
                NEW.created_at := OLD.created_at;
                NEW.updated_at := now();
                RETURN NEW;
            END
            $$;
            CREATE TRIGGER slots_before_update
                BEFORE UPDATE ON slots
                FOR EACH ROW EXECUTE FUNCTION slots_before_update();
            """
    )

    /// Message templates (a default per key plus per-city and per-locale overrides) and the bot's users.
    static let templatesAndUsers = Migration(
        version: 3,
        name: "message_templates_and_users",
        sql: """
            CREATE TABLE message_templates (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                key text NOT NULL CONSTRAINT message_templates_key_check CHECK (key ~ '^[a-z0-9][a-z0-9_.-]*$'),
                -- NULL is the default template of the key; a city's row overrides it there.
                city_id bigint REFERENCES cities (id) ON DELETE CASCADE,
                locale text CONSTRAINT message_templates_locale_check CHECK (locale ~ '^[a-z]{2,3}(-[A-Z]{2})?$'),
                body text NOT NULL CONSTRAINT message_templates_body_check CHECK (btrim(body) <> ''),
                -- NULLS NOT DISTINCT: only one default (NULL city) and one locale-independent text per key.
                CONSTRAINT message_templates_key_city_locale_key UNIQUE NULLS NOT DISTINCT (key, city_id, locale)
            );
            CREATE INDEX message_templates_city_id_idx ON message_templates (city_id);

            CREATE TABLE users (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                telegram_id bigint NOT NULL
                    CONSTRAINT users_telegram_id_check CHECK (telegram_id > 0)
                    CONSTRAINT users_telegram_id_key UNIQUE,
                name text NOT NULL CONSTRAINT users_name_check CHECK (btrim(name) <> ''),
                phone text CONSTRAINT users_phone_check CHECK (phone ~ '^\\+?[0-9]{5,15}$'),
                created_at timestamptz NOT NULL DEFAULT now()
            );
            """
    )

    /// Reminders sent at most once per (slot, kind), and the slots' event log (the side record of bookings).
    static let remindersAndSlotEvents = Migration(
        version: 4,
        name: "sent_reminders_and_slot_events",
        sql: """
            CREATE TABLE sent_reminders (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                slot_id bigint NOT NULL REFERENCES slots (id) ON DELETE CASCADE,
                kind text NOT NULL CONSTRAINT sent_reminders_kind_check CHECK (kind ~ '^[1-9][0-9]*[mhd]$'),
                sent_at timestamptz NOT NULL DEFAULT now(),
                CONSTRAINT sent_reminders_slot_id_kind_key UNIQUE (slot_id, kind)
            );

            CREATE TABLE slot_events (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                slot_id bigint NOT NULL REFERENCES slots (id) ON DELETE CASCADE,
                kind text NOT NULL CONSTRAINT slot_events_kind_check CHECK (
                    kind IN ('published', 'reserved', 'released', 'booked', 'confirmed', 'canceled', 'expired')
                ),
                candidate_telegram_id bigint
                    CONSTRAINT slot_events_candidate_telegram_id_check CHECK (candidate_telegram_id > 0),
                created_at timestamptz NOT NULL DEFAULT now()
            );
            CREATE INDEX slot_events_slot_id_idx ON slot_events (slot_id, id);
            """
    )
}

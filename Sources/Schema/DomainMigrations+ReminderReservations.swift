import Persistence

extension DomainMigrations {
    /// A send instant given up can be reserved again (version 8). A worker that wakes too late for the instant it
    /// reserved gives it up and reserves again; until now its own reservation still held the chat's gap, so the
    /// second reservation always found the chat busy and the job snoozed for the gap (1.25 s by default), and on a
    /// loaded machine a reminder went round that loop for seconds. The new overload takes the instant given up
    /// (`p_abandoned_ms`, epoch ms, NULL on a first reservation), frees the chat's gap when the chat's row is still
    /// that reservation's, then reserves as the five-argument version does, and also returns the instant reserved
    /// (`slot_ms`) so that it can be given up in turn. The five-argument version stays for workers of the previous
    /// release during a rolling deploy.
    static let reminderReservations = Migration(
        version: 8,
        name: "telegram_reserve_again",
        sql: """
            CREATE FUNCTION telegram_reserve_send(
                p_limit text, p_chat bigint, p_spacing_ms double precision, p_chat_gap_ms double precision,
                p_max_wait_ms double precision, p_abandoned_ms double precision
            ) RETURNS TABLE (wait_ms double precision, retry_ms double precision, slot_ms double precision)
            LANGUAGE plpgsql AS $$
            DECLARE
                w double precision;
                r double precision;
            BEGIN
                IF p_abandoned_ms IS NOT NULL THEN
                    -- Serialize with every other reservation first, as the five-argument version does.
                    PERFORM 1 FROM telegram_send_limits WHERE name = p_limit FOR UPDATE;
                    DELETE FROM telegram_chat_limits
                    WHERE chat_id = p_chat
                        AND abs(extract(epoch FROM next_at) * 1000 - (p_abandoned_ms + p_chat_gap_ms)) < 1;
                END IF;
                SELECT x.wait_ms, x.retry_ms INTO w, r
                FROM telegram_reserve_send(p_limit, p_chat, p_spacing_ms, p_chat_gap_ms, p_max_wait_ms) AS x;
                IF w IS NULL THEN
                    RETURN QUERY SELECT NULL::double precision, r, NULL::double precision;
                    RETURN;
                END IF;
                -- The instant reserved, exactly: the chat's row holds it plus the gap.
                RETURN QUERY SELECT w, NULL::double precision,
                    extract(epoch FROM c.next_at)::double precision * 1000 - p_chat_gap_ms
                    FROM telegram_chat_limits c WHERE c.chat_id = p_chat;
            END
            $$;
            """
    )
}

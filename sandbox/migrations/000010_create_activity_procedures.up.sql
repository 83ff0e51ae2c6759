-- The notifications API's stored procedures (functions). SECURITY INVOKER: they run with the caller's
-- privileges, so row level security on activity.notifications applies to the API's role.

CREATE FUNCTION activity.sp_get_user_notifications(
    p_user_id uuid, p_limit integer DEFAULT 20, p_offset integer DEFAULT 0,
    p_unread_only boolean DEFAULT false, p_type text DEFAULT NULL)
RETURNS TABLE (id uuid, user_id uuid, type text, title text, message text, data jsonb, priority text,
               is_read boolean, read_at timestamptz, created_at timestamptz, total_count bigint)
LANGUAGE sql STABLE AS $$
    SELECT n.id, n.user_id, n.type, n.title, n.message, n.data, n.priority, n.is_read, n.read_at, n.created_at,
           count(*) OVER () AS total_count
    FROM activity.notifications n
    WHERE n.user_id = p_user_id AND NOT n.is_deleted
      AND (NOT p_unread_only OR NOT n.is_read)
      AND (p_type IS NULL OR n.type = p_type)
    ORDER BY n.created_at DESC, n.id
    LIMIT greatest(least(p_limit, 100), 1) OFFSET greatest(p_offset, 0)
$$;

CREATE FUNCTION activity.sp_get_notification_by_id(p_notification_id uuid, p_user_id uuid)
RETURNS TABLE (id uuid, user_id uuid, type text, title text, message text, data jsonb, priority text,
               is_read boolean, read_at timestamptz, created_at timestamptz)
LANGUAGE sql STABLE AS $$
    SELECT n.id, n.user_id, n.type, n.title, n.message, n.data, n.priority, n.is_read, n.read_at, n.created_at
    FROM activity.notifications n
    WHERE n.id = p_notification_id AND n.user_id = p_user_id AND NOT n.is_deleted
$$;

CREATE FUNCTION activity.sp_mark_notification_as_read(p_notification_id uuid, p_user_id uuid)
RETURNS TABLE (id uuid, is_read boolean, read_at timestamptz)
LANGUAGE sql AS $$
    UPDATE activity.notifications n
       SET is_read = true, read_at = coalesce(n.read_at, now())
     WHERE n.id = p_notification_id AND n.user_id = p_user_id AND NOT n.is_deleted
    RETURNING n.id, n.is_read, n.read_at
$$;

CREATE FUNCTION activity.sp_mark_notifications_as_read_bulk(p_user_id uuid, p_notification_ids uuid[] DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    v_count integer;
BEGIN
    UPDATE activity.notifications n
       SET is_read = true, read_at = now()
     WHERE n.user_id = p_user_id AND NOT n.is_read AND NOT n.is_deleted
       AND (p_notification_ids IS NULL OR n.id = ANY (p_notification_ids));
    GET DIAGNOSTICS v_count = ROW_COUNT;
    RETURN v_count;
END
$$;

CREATE FUNCTION activity.sp_delete_notification(p_notification_id uuid, p_user_id uuid)
RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE activity.notifications n
       SET is_deleted = true, deleted_at = now()
     WHERE n.id = p_notification_id AND n.user_id = p_user_id AND NOT n.is_deleted;
    RETURN FOUND;
END
$$;

CREATE FUNCTION activity.sp_get_unread_count(p_user_id uuid, p_include_deleted boolean DEFAULT false)
RETURNS TABLE (total_unread bigint, by_type jsonb)
LANGUAGE sql STABLE AS $$
    WITH c AS (
        SELECT n.type, count(*) AS cnt
        FROM activity.notifications n
        WHERE n.user_id = p_user_id AND NOT n.is_read AND (p_include_deleted OR NOT n.is_deleted)
        GROUP BY n.type
    )
    SELECT coalesce(sum(cnt), 0)::bigint, coalesce(jsonb_object_agg(type, cnt), '{}'::jsonb) FROM c
$$;

CREATE FUNCTION activity.sp_create_notification(
    p_user_id uuid, p_type text, p_title text, p_message text DEFAULT '',
    p_data jsonb DEFAULT '{}'::jsonb, p_priority text DEFAULT 'normal')
RETURNS TABLE (id uuid, user_id uuid, type text, title text, message text, data jsonb, priority text,
               is_read boolean, read_at timestamptz, created_at timestamptz)
LANGUAGE sql AS $$
    INSERT INTO activity.notifications AS n (user_id, type, title, message, data, priority)
    VALUES (p_user_id, p_type, p_title, coalesce(p_message, ''), coalesce(p_data, '{}'::jsonb),
            coalesce(p_priority, 'normal'))
    RETURNING n.id, n.user_id, n.type, n.title, n.message, n.data, n.priority, n.is_read, n.read_at, n.created_at
$$;

CREATE FUNCTION activity.sp_get_notification_settings(p_user_id uuid)
RETURNS TABLE (user_id uuid, email_enabled boolean, push_enabled boolean, in_app_enabled boolean,
               digest_frequency text, muted_types text[], updated_at timestamptz)
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO activity.notification_settings AS s (user_id) VALUES (p_user_id) ON CONFLICT DO NOTHING;
    RETURN QUERY
        SELECT s.user_id, s.email_enabled, s.push_enabled, s.in_app_enabled, s.digest_frequency, s.muted_types,
               s.updated_at
        FROM activity.notification_settings s WHERE s.user_id = p_user_id;
END
$$;

CREATE FUNCTION activity.sp_update_notification_settings(
    p_user_id uuid, p_email_enabled boolean DEFAULT NULL, p_push_enabled boolean DEFAULT NULL,
    p_in_app_enabled boolean DEFAULT NULL, p_digest_frequency text DEFAULT NULL, p_muted_types text[] DEFAULT NULL)
RETURNS TABLE (user_id uuid, email_enabled boolean, push_enabled boolean, in_app_enabled boolean,
               digest_frequency text, muted_types text[], updated_at timestamptz)
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO activity.notification_settings AS s (user_id) VALUES (p_user_id) ON CONFLICT DO NOTHING;
    RETURN QUERY
        UPDATE activity.notification_settings s
           SET email_enabled = coalesce(p_email_enabled, s.email_enabled),
               push_enabled = coalesce(p_push_enabled, s.push_enabled),
               in_app_enabled = coalesce(p_in_app_enabled, s.in_app_enabled),
               digest_frequency = coalesce(p_digest_frequency, s.digest_frequency),
               muted_types = coalesce(p_muted_types, s.muted_types),
               updated_at = now()
         WHERE s.user_id = p_user_id
        RETURNING s.user_id, s.email_enabled, s.push_enabled, s.in_app_enabled, s.digest_frequency, s.muted_types,
                  s.updated_at;
END
$$;

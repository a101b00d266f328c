// The one diesel schema shared by PostgreSQL and SQLite: only portable SQL
// types (Text, BigInt, Integer, Double, Timestamp) so each query is written
// once. Matches migrations/{postgres,sqlite}.

diesel::table! {
    users (id) {
        id -> Text,
        login -> Text,
        name -> Nullable<Text>,
        created_at -> Timestamp,
        provider -> Text,
        subject -> Text,
        email -> Nullable<Text>,
        avatar_url -> Nullable<Text>,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> Text,
        user_id -> Text,
        name -> Text,
        secret_hash -> Text,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        expires_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    uploads (id) {
        id -> Text,
        owner_id -> Text,
        filename -> Text,
        content_type -> Nullable<Text>,
        size -> BigInt,
        object_key -> Text,
        status -> Text,
        format -> Nullable<Text>,
        delimiter -> Nullable<Text>,
        created_at -> Timestamp,
        url_expires_at -> Timestamp,
        uploaded_at -> Nullable<Timestamp>,
        etag -> Nullable<Text>,
    }
}

diesel::table! {
    jobs (id) {
        id -> Text,
        upload_id -> Text,
        owner_id -> Text,
        status -> Text,
        progress -> Double,
        attempts -> Integer,
        max_attempts -> Integer,
        lease_owner -> Nullable<Text>,
        lease_expires_at -> Nullable<Timestamp>,
        error_code -> Nullable<Text>,
        error_message -> Nullable<Text>,
        result -> Nullable<Text>,
        created_at -> Timestamp,
        started_at -> Nullable<Timestamp>,
        finished_at -> Nullable<Timestamp>,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    login_attempts (id) {
        id -> Text,
        provider -> Text,
        pkce_verifier -> Text,
        nonce -> Text,
        return_to -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(uploads -> users (owner_id));
diesel::joinable!(jobs -> uploads (upload_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(api_tokens -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(users, uploads, jobs, sessions, api_tokens, login_attempts);

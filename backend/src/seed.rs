//! The demo organization, seeded into an empty database so that a fresh install can be tried at
//! once: one organization, one AI agent with a small knowledge base, one widget (`demo`), two
//! client users who can handle conversations (Ann also manages settings and users) and a platform
//! admin.
use crate::auth::hash_password;
use crate::db::Db;
use crate::error::Result;
use crate::ids::now_ms;
use crate::store::knowledge::insert_knowledge;
use domain::agent::parse_knowledge_file;

pub const DEMO_WIDGET_ID: &str = "demo";
pub const DEMO_USERS: [(&str, &str); 2] = [("ann@demo.test", "Ann Agent"), ("bob@demo.test", "Bob Agent")];
/// The demo's platform admin (no organization).
pub const DEMO_ADMIN: (&str, &str) = ("admin@demo.test", "Demo Admin");

const DEMO_KNOWLEDGE: &str = "Q: What are your opening hours?
A: Our team is available Monday to Friday, 9:00 to 17:00 (CET). The AI assistant answers around the clock.

Q: How much does shipping cost?
A: Shipping is free for orders above 50 EUR; below that it costs 4.90 EUR within the EU.

Q: How do I return an item?
A: You can return any item within 30 days. Open your order, choose \"Return\", and print the label.

Q: Which payment methods do you accept?
A: We accept credit cards, PayPal and bank transfer.

Q: Where is my order? How do I track my order?
A: You find the tracking link in your shipping confirmation e-mail and under \"My orders\".

# Warranty and repairs
Every product comes with a two-year warranty from the day of delivery.

If something breaks, send us a photo through the chat or by e-mail; we repair or replace it free of charge within the warranty.

Repairs outside the warranty cost a flat 25 EUR plus parts; we send you a quote first.";

/// Seeds the demo data if the database has no organization yet. Returns whether it seeded.
pub async fn seed_demo(db: &Db, password: &str) -> Result<bool> {
    let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM organizations").fetch_one(&db.pool).await?;
    if count > 0 {
        return Ok(false);
    }
    let now = now_ms();
    let hash = hash_password(password)?;
    let mut tx = db.begin_write().await?;
    sqlx::query("INSERT INTO organizations (id, name, created_at) VALUES ('demo-org', 'Demo Org', $1)")
        .bind(now)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO agents (id, org_id, name, greeting, handoff_enabled, handoff_fixed, created_at)
         VALUES ('demo-agent', 'demo-org', 'Ada', $1, 1, 0, $2)",
    )
    .bind("Hi! I'm Ada, Demo Org's assistant. Ask me about opening hours, shipping, returns, payment or warranty — or talk to a human.")
    .bind(now)
    .execute(&mut *tx)
    .await?;
    for (i, e) in parse_knowledge_file("demo.md", DEMO_KNOWLEDGE).iter().enumerate() {
        insert_knowledge(&mut tx, "demo-agent", e, now + i as i64).await?;
    }
    sqlx::query(
        "INSERT INTO widgets (id, org_id, agent_id, name, allowed_origins, created_at)
         VALUES ($1, 'demo-org', 'demo-agent', 'Demo website', '', $2)",
    )
    .bind(DEMO_WIDGET_ID)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    for (i, (email, name)) in DEMO_USERS.iter().enumerate() {
        sqlx::query(
            "INSERT INTO users (id, org_id, email, name, password_hash, role, perm_conversations, perm_settings, perm_users, created_at)
             VALUES ($1, 'demo-org', $2, $3, $4, 'client', 1, $5, $5, $6)",
        )
        .bind(format!("demo-user-{}", i + 1))
        .bind(*email)
        .bind(*name)
        .bind(&hash)
        .bind(if i == 0 { 1i64 } else { 0i64 })
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query(
        "INSERT INTO users (id, org_id, email, name, password_hash, role, perm_conversations, perm_settings, perm_users, created_at)
         VALUES ('demo-admin', NULL, $1, $2, $3, 'admin', 1, 1, 1, $4)",
    )
    .bind(DEMO_ADMIN.0)
    .bind(DEMO_ADMIN.1)
    .bind(&hash)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(true)
}

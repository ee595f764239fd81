"""Messaging: the outbox, message templates, consent history, newsletters (issue 15)

- outbox: every email/SMS/WhatsApp message to a customer, with its idempotency key (unique:
  a message is queued once however often `frontdesk notify` runs), status, attempts and the
  server's last reason;
- message_template: named subject + body with placeholders;
- consent_change: the history of each consent switch (the customer row keeps the current
  value);
- newsletter: a newsletter composed once and queued to its audience;
- customer.preferred_channel: email, sms or whatsapp (NULL: email when there is one).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

CHANNELS = "channel IN ('email', 'sms', 'whatsapp')"


def upgrade() -> None:
    op.add_column("customer", sa.Column("preferred_channel", sa.String(length=10), nullable=True))
    op.create_table(
        "newsletter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("audience", sa.String(length=500), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("status IN ('queuing', 'queued')", name="ck_newsletter_status"),
        sa.ForeignKeyConstraint(["created_by_id"], ["staff.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("purpose", sa.String(length=15), nullable=False),
        sa.Column("template", sa.String(length=100), nullable=True),
        sa.Column("subject", sa.String(length=300), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("html", sa.Text(), nullable=True),
        sa.Column("to_address", sa.String(length=320), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("provider_id", sa.String(length=200), nullable=True),
        sa.Column("message_id", sa.String(length=300), nullable=True),
        sa.Column("booking_id", sa.Integer(), nullable=True),
        sa.Column("newsletter_id", sa.Integer(), nullable=True),
        sa.Column("claimed_by", sa.String(length=200), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("handed_over_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(CHANNELS, name="ck_outbox_channel"),
        sa.CheckConstraint(
            "purpose IN ('transactional', 'reminder', 'birthday', 'anniversary', "
            "'marketing', 'newsletter')",
            name="ck_outbox_purpose",
        ),
        sa.CheckConstraint(
            "status IN ('queued', 'sending', 'sent', 'failed', 'skipped')",
            name="ck_outbox_status",
        ),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["booking_id"], ["booking.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["newsletter_id"], ["newsletter.id"]),
        sa.ForeignKeyConstraint(["created_by_id"], ["staff.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idempotency_key"),
    )
    op.create_index("ix_outbox_due", "outbox", ["status", "next_attempt_at"])
    op.create_index("ix_outbox_customer", "outbox", ["customer_id", "created_at"])
    op.create_index("ix_outbox_newsletter_id", "outbox", ["newsletter_id"])
    op.create_table(
        "message_template",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(CHANNELS, name="ck_message_template_channel"),
        sa.ForeignKeyConstraint(["updated_by_id"], ["staff.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "consent_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=15), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=15), nullable=False),
        sa.CheckConstraint(
            "purpose IN ('reminders', 'birthday', 'marketing', 'newsletter')",
            name="ck_consent_change_purpose",
        ),
        sa.CheckConstraint(
            "source IN ('desk', 'import', 'unsubscribe', 'api', 'merge', 'erase')",
            name="ck_consent_change_source",
        ),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_consent_change_customer", "consent_change", ["customer_id", "at"])


def downgrade() -> None:
    op.drop_table("consent_change")
    op.drop_table("message_template")
    op.drop_table("outbox")
    op.drop_table("newsletter")
    op.execute("ALTER TABLE customer DROP COLUMN preferred_channel")

"""initial schema

Revision ID: 0001
Revises:
"""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import app.database

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "lti_state_entries",
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column(
            "expires_at", app.database.UTCDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_lti_state_entries")),
    )
    with op.batch_alter_table("lti_state_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_lti_state_entries_expires_at"), ["expires_at"], unique=False
        )

    op.create_table(
        "lti_used_nonces",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("issuer", sa.String(length=512), nullable=False),
        sa.Column("nonce", sa.String(length=255), nullable=False),
        sa.Column(
            "expires_at", app.database.UTCDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lti_used_nonces")),
        sa.UniqueConstraint(
            "issuer", "nonce", name=op.f("uq_lti_used_nonces_issuer_nonce")
        ),
    )
    with op.batch_alter_table("lti_used_nonces", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_lti_used_nonces_expires_at"), ["expires_at"], unique=False
        )

    op.create_table(
        "organizations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("parent_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column(
            "created_at", app.database.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", app.database.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["organizations.id"],
            name=op.f("fk_organizations_parent_id_organizations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organizations")),
        sa.UniqueConstraint("slug", name=op.f("uq_organizations_slug")),
    )
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_organizations_parent_id"), ["parent_id"], unique=False
        )

    # Records need an owner before any tenancy is configured.
    organizations = sa.table(
        "organizations",
        sa.column("id", sa.Uuid()),
        sa.column("kind", sa.String()),
        sa.column("slug", sa.String()),
        sa.column("name", sa.String()),
        sa.column("created_at", app.database.UTCDateTime(timezone=True)),
        sa.column("updated_at", app.database.UTCDateTime(timezone=True)),
    )
    now = datetime.now(UTC)
    op.bulk_insert(
        organizations,
        [
            {
                "id": uuid.UUID("00000000-0000-4000-8000-000000000001"),
                "kind": "district",
                "slug": "default",
                "name": "Default organization",
                "created_at": now,
                "updated_at": now,
            }
        ],
    )

    op.create_table(
        "tool_keys",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("private_key_pem", sa.Text(), nullable=False),
        sa.Column("public_jwk", sa.JSON(), nullable=False),
        sa.Column(
            "retired_at", app.database.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "created_at", app.database.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", app.database.UTCDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tool_keys")),
        sa.UniqueConstraint("kid", name=op.f("uq_tool_keys_kid")),
    )
    with op.batch_alter_table("tool_keys", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_tool_keys_status"), ["status"], unique=False
        )

    op.create_table(
        "frameworks",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("identifier", sa.String(length=512), nullable=False),
        sa.Column("identifier_key", sa.String(length=512), nullable=False),
        sa.Column("uri", sa.String(length=2048), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("creator", sa.Text(), nullable=True),
        sa.Column("publisher", sa.Text(), nullable=True),
        sa.Column("version", sa.String(length=255), nullable=True),
        sa.Column("adoption_status", sa.String(length=64), nullable=True),
        sa.Column("case_version", sa.String(length=16), nullable=True),
        sa.Column(
            "last_change_at", app.database.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("definitions", sa.JSON(), nullable=False),
        sa.Column("visibility", sa.String(length=16), nullable=False),
        sa.Column(
            "created_at", app.database.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", app.database.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_frameworks_organization_id_organizations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_frameworks")),
    )
    with op.batch_alter_table("frameworks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_frameworks_identifier_key"), ["identifier_key"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_frameworks_organization_id"),
            ["organization_id"],
            unique=False,
        )

    op.create_table(
        "people",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("display_name", sa.String(length=255), nullable=True),
        sa.Column("given_name", sa.String(length=255), nullable=True),
        sa.Column("family_name", sa.String(length=255), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column(
            "created_at", app.database.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", app.database.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_people_organization_id_organizations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people")),
    )
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_people_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "platforms",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("product", sa.String(length=32), nullable=False),
        sa.Column("issuer", sa.String(length=512), nullable=False),
        sa.Column("client_id", sa.String(length=255), nullable=False),
        sa.Column("auth_login_url", sa.String(length=1024), nullable=False),
        sa.Column("auth_token_url", sa.String(length=1024), nullable=False),
        sa.Column("auth_audience", sa.String(length=1024), nullable=True),
        sa.Column("keyset_url", sa.String(length=1024), nullable=False),
        sa.Column(
            "created_at", app.database.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", app.database.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_platforms_organization_id_organizations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platforms")),
        sa.UniqueConstraint(
            "issuer", "client_id", name=op.f("uq_platforms_issuer_client_id")
        ),
    )
    with op.batch_alter_table("platforms", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_platforms_issuer"), ["issuer"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_platforms_organization_id"),
            ["organization_id"],
            unique=False,
        )

    op.create_table(
        "competencies",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("framework_id", sa.Uuid(), nullable=False),
        sa.Column("identifier", sa.String(length=512), nullable=False),
        sa.Column("identifier_key", sa.String(length=512), nullable=False),
        sa.Column("alias_key", sa.String(length=64), nullable=True),
        sa.Column("uri", sa.String(length=2048), nullable=True),
        sa.Column("human_coding_scheme", sa.String(length=255), nullable=True),
        sa.Column("full_statement", sa.Text(), nullable=False),
        sa.Column("abbreviated_statement", sa.Text(), nullable=True),
        sa.Column("item_type", sa.String(length=255), nullable=True),
        sa.Column("education_levels", sa.JSON(), nullable=False),
        sa.Column("list_position", sa.Integer(), nullable=False),
        sa.Column(
            "last_change_at", app.database.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("retired_at", app.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("item", sa.JSON(), nullable=False),
        sa.Column(
            "created_at", app.database.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", app.database.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["framework_id"],
            ["frameworks.id"],
            name=op.f("fk_competencies_framework_id_frameworks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_competencies")),
        sa.UniqueConstraint(
            "framework_id",
            "identifier_key",
            name=op.f("uq_competencies_framework_id_identifier_key"),
        ),
    )
    with op.batch_alter_table("competencies", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_competencies_alias_key"), ["alias_key"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_competencies_framework_id"), ["framework_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_competencies_human_coding_scheme"),
            ["human_coding_scheme"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_competencies_identifier_key"),
            ["identifier_key"],
            unique=False,
        )

    op.create_table(
        "contexts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("platform_id", sa.Uuid(), nullable=True),
        sa.Column("source", sa.String(length=512), nullable=False),
        sa.Column("external_id", sa.String(length=512), nullable=False),
        sa.Column("label", sa.String(length=255), nullable=True),
        sa.Column("title", sa.String(length=1024), nullable=True),
        sa.Column(
            "created_at", app.database.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", app.database.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_contexts_organization_id_organizations"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["platforms.id"],
            name=op.f("fk_contexts_platform_id_platforms"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contexts")),
        sa.UniqueConstraint(
            "organization_id",
            "source",
            "external_id",
            name=op.f("uq_contexts_organization_id_source_external_id"),
        ),
    )
    with op.batch_alter_table("contexts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_contexts_organization_id"), ["organization_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_contexts_platform_id"), ["platform_id"], unique=False
        )

    op.create_table(
        "deployments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("platform_id", sa.Uuid(), nullable=False),
        sa.Column("deployment_id", sa.String(length=255), nullable=False),
        sa.Column(
            "created_at", app.database.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", app.database.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["platforms.id"],
            name=op.f("fk_deployments_platform_id_platforms"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deployments")),
        sa.UniqueConstraint(
            "platform_id",
            "deployment_id",
            name=op.f("uq_deployments_platform_id_deployment_id"),
        ),
    )
    with op.batch_alter_table("deployments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_deployments_platform_id"), ["platform_id"], unique=False
        )

    op.create_table(
        "person_identifiers",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("scheme", sa.String(length=64), nullable=False),
        sa.Column("issuer", sa.String(length=512), nullable=False),
        sa.Column("value", sa.String(length=512), nullable=False),
        sa.Column(
            "created_at", app.database.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", app.database.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_person_identifiers_organization_id_organizations"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_person_identifiers_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_identifiers")),
        sa.UniqueConstraint(
            "organization_id",
            "scheme",
            "issuer",
            "value",
            name=op.f("uq_person_identifiers_organization_id_scheme_issuer_value"),
        ),
    )
    with op.batch_alter_table("person_identifiers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_person_identifiers_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "activities",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("context_id", sa.Uuid(), nullable=True),
        sa.Column("platform_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=512), nullable=False),
        sa.Column("external_id", sa.String(length=512), nullable=False),
        sa.Column("title", sa.String(length=1024), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column(
            "created_at", app.database.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", app.database.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["context_id"],
            ["contexts.id"],
            name=op.f("fk_activities_context_id_contexts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_activities_organization_id_organizations"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["platforms.id"],
            name=op.f("fk_activities_platform_id_platforms"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activities")),
        sa.UniqueConstraint(
            "organization_id",
            "source",
            "external_id",
            name=op.f("uq_activities_organization_id_source_external_id"),
        ),
    )
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_activities_context_id"), ["context_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_activities_organization_id"),
            ["organization_id"],
            unique=False,
        )

    op.create_table(
        "associations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("framework_id", sa.Uuid(), nullable=False),
        sa.Column("identifier", sa.String(length=512), nullable=False),
        sa.Column("identifier_key", sa.String(length=512), nullable=False),
        sa.Column("association_type", sa.String(length=64), nullable=False),
        sa.Column("sequence_number", sa.Integer(), nullable=True),
        sa.Column("origin_identifier", sa.String(length=512), nullable=False),
        sa.Column("origin_uri", sa.String(length=2048), nullable=True),
        sa.Column("origin_competency_id", sa.Uuid(), nullable=True),
        sa.Column("destination_identifier", sa.String(length=512), nullable=False),
        sa.Column("destination_uri", sa.String(length=2048), nullable=True),
        sa.Column("destination_competency_id", sa.Uuid(), nullable=True),
        sa.Column("destination_is_document", sa.Boolean(), nullable=False),
        sa.Column("association", sa.JSON(), nullable=False),
        sa.Column(
            "created_at", app.database.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", app.database.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["destination_competency_id"],
            ["competencies.id"],
            name=op.f("fk_associations_destination_competency_id_competencies"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["framework_id"],
            ["frameworks.id"],
            name=op.f("fk_associations_framework_id_frameworks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["origin_competency_id"],
            ["competencies.id"],
            name=op.f("fk_associations_origin_competency_id_competencies"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_associations")),
        sa.UniqueConstraint(
            "framework_id",
            "identifier_key",
            name=op.f("uq_associations_framework_id_identifier_key"),
        ),
    )
    with op.batch_alter_table("associations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_associations_association_type"),
            ["association_type"],
            unique=False,
        )
        batch_op.create_index(
            "ix_associations_destination_type",
            ["destination_competency_id", "association_type"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_associations_framework_id"), ["framework_id"], unique=False
        )
        batch_op.create_index(
            "ix_associations_origin_type",
            ["origin_competency_id", "association_type"],
            unique=False,
        )

    op.create_table(
        "alignments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("activity_id", sa.Uuid(), nullable=False),
        sa.Column("competency_id", sa.Uuid(), nullable=False),
        sa.Column("created_by_person_id", sa.Uuid(), nullable=True),
        sa.Column(
            "created_at", app.database.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", app.database.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activities.id"],
            name=op.f("fk_alignments_activity_id_activities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["competency_id"],
            ["competencies.id"],
            name=op.f("fk_alignments_competency_id_competencies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_person_id"],
            ["people.id"],
            name=op.f("fk_alignments_created_by_person_id_people"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alignments")),
        sa.UniqueConstraint(
            "activity_id",
            "competency_id",
            name=op.f("uq_alignments_activity_id_competency_id"),
        ),
    )
    with op.batch_alter_table("alignments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_alignments_activity_id"), ["activity_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_alignments_competency_id"), ["competency_id"], unique=False
        )

    op.create_table(
        "evidence",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("activity_id", sa.Uuid(), nullable=False),
        sa.Column("score", sa.Numeric(precision=14, scale=4), nullable=False),
        sa.Column("max_score", sa.Numeric(precision=14, scale=4), nullable=False),
        sa.Column(
            "occurred_at", app.database.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "received_at", app.database.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=False),
        sa.Column("voided_at", app.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("void_reason", sa.Text(), nullable=True),
        sa.Column("statement_id", sa.Uuid(), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activities.id"],
            name=op.f("fk_evidence_activity_id_activities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_evidence_organization_id_organizations"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_evidence_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence")),
        sa.UniqueConstraint(
            "organization_id",
            "idempotency_key",
            name=op.f("uq_evidence_organization_id_idempotency_key"),
        ),
        sa.UniqueConstraint(
            "organization_id",
            "statement_id",
            name=op.f("uq_evidence_organization_id_statement_id"),
        ),
    )
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_evidence_activity_id"), ["activity_id"], unique=False
        )
        batch_op.create_index(
            "ix_evidence_person_occurred", ["person_id", "occurred_at"], unique=False
        )

    op.create_table(
        "lti_launch_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("platform_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=True),
        sa.Column("context_id", sa.Uuid(), nullable=True),
        sa.Column("activity_id", sa.Uuid(), nullable=True),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("message_type", sa.String(length=64), nullable=False),
        sa.Column("claims", sa.JSON(), nullable=False),
        sa.Column(
            "created_at", app.database.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "expires_at", app.database.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activities.id"],
            name=op.f("fk_lti_launch_sessions_activity_id_activities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["context_id"],
            ["contexts.id"],
            name=op.f("fk_lti_launch_sessions_context_id_contexts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_lti_launch_sessions_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["platforms.id"],
            name=op.f("fk_lti_launch_sessions_platform_id_platforms"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lti_launch_sessions")),
    )
    with op.batch_alter_table("lti_launch_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_lti_launch_sessions_expires_at"),
            ["expires_at"],
            unique=False,
        )

    op.create_table(
        "mastery",
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("competency_id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("level", sa.Numeric(precision=5, scale=2), nullable=True),
        sa.Column("mastered", sa.Boolean(), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("calculation_int", sa.Integer(), nullable=True),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("formula_version", sa.String(length=64), nullable=False),
        sa.Column("threshold", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("evidence_count", sa.Integer(), nullable=False),
        sa.Column("rolled_up", sa.Boolean(), nullable=False),
        sa.Column("latest_evidence_id", sa.Uuid(), nullable=True),
        sa.Column(
            "computed_at", app.database.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["competency_id"],
            ["competencies.id"],
            name=op.f("fk_mastery_competency_id_competencies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["latest_evidence_id"],
            ["evidence.id"],
            name=op.f("fk_mastery_latest_evidence_id_evidence"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_mastery_organization_id_organizations"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_mastery_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("person_id", "competency_id", name=op.f("pk_mastery")),
    )
    with op.batch_alter_table("mastery", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_mastery_competency_id"), ["competency_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_mastery_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "api_clients",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("secret_hash", sa.String(length=255), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("revoked_at", app.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at", app.database.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", app.database.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_api_clients_organization_id_organizations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_clients")),
        sa.UniqueConstraint("client_id", name=op.f("uq_api_clients_client_id")),
    )
    with op.batch_alter_table("api_clients", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_api_clients_organization_id"),
            ["organization_id"],
            unique=False,
        )

    op.create_table(
        "mastery_policies",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("framework_id", sa.Uuid(), nullable=True),
        sa.Column("organization_id", sa.Uuid(), nullable=True),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("calculation_int", sa.Integer(), nullable=True),
        sa.Column("scale", sa.JSON(), nullable=False),
        sa.Column("rollup_rule", sa.String(length=16), nullable=False),
        sa.Column("rollup_share", sa.Numeric(precision=3, scale=2), nullable=True),
        sa.Column("formula_version", sa.String(length=64), nullable=False),
        sa.Column(
            "created_at", app.database.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", app.database.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["framework_id"],
            ["frameworks.id"],
            name=op.f("fk_mastery_policies_framework_id_frameworks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_mastery_policies_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mastery_policies")),
        sa.UniqueConstraint(
            "framework_id", name=op.f("uq_mastery_policies_framework_id")
        ),
        sa.UniqueConstraint(
            "organization_id", name=op.f("uq_mastery_policies_organization_id")
        ),
    )

    op.create_table(
        "case_sources",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("base_url", sa.String(length=2048), nullable=False),
        sa.Column("case_version", sa.String(length=8), nullable=False),
        sa.Column("auth_method", sa.String(length=32), nullable=False),
        sa.Column("api_key_header", sa.String(length=255), nullable=True),
        sa.Column("token_url", sa.String(length=2048), nullable=True),
        sa.Column("client_id", sa.String(length=255), nullable=True),
        sa.Column("oauth_scope", sa.String(length=1024), nullable=True),
        sa.Column("credentials", sa.Text(), nullable=True),
        sa.Column("followed_documents", sa.JSON(), nullable=False),
        sa.Column("schedule", sa.String(length=255), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at", app.database.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", app.database.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_case_sources_organization_id_organizations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_sources")),
        sa.UniqueConstraint(
            "organization_id", "name", name=op.f("uq_case_sources_organization_id_name")
        ),
    )
    with op.batch_alter_table("case_sources", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_case_sources_organization_id"),
            ["organization_id"],
            unique=False,
        )

    op.create_table(
        "sync_runs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("source_id", sa.Uuid(), nullable=False),
        sa.Column("trigger", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column(
            "started_at", app.database.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "finished_at", app.database.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("documents_created", sa.Integer(), nullable=False),
        sa.Column("documents_updated", sa.Integer(), nullable=False),
        sa.Column("documents_unchanged", sa.Integer(), nullable=False),
        sa.Column("documents_failed", sa.Integer(), nullable=False),
        sa.Column("items_written", sa.Integer(), nullable=False),
        sa.Column("items_retired", sa.Integer(), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("documents", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["case_sources.id"],
            name=op.f("fk_sync_runs_source_id_case_sources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_runs")),
    )
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sync_runs_source_id"), ["source_id"], unique=False
        )

    op.create_table(
        "job_runs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("job_name", sa.String(length=255), nullable=False),
        sa.Column(
            "scheduled_for", app.database.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("worker", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column(
            "started_at", app.database.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "finished_at", app.database.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_runs")),
        sa.UniqueConstraint(
            "job_name",
            "scheduled_for",
            name=op.f("uq_job_runs_job_name_scheduled_for"),
        ),
    )

    op.create_table(
        "lms_membership_services",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("context_id", sa.Uuid(), nullable=False),
        sa.Column("platform_id", sa.Uuid(), nullable=False),
        sa.Column("context_memberships_url", sa.String(length=1024), nullable=False),
        sa.Column(
            "last_synced_at", app.database.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "created_at", app.database.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", app.database.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["context_id"],
            ["contexts.id"],
            name=op.f("fk_lms_membership_services_context_id_contexts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["platforms.id"],
            name=op.f("fk_lms_membership_services_platform_id_platforms"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lms_membership_services")),
        sa.UniqueConstraint(
            "context_id", name=op.f("uq_lms_membership_services_context_id")
        ),
    )
    with op.batch_alter_table("lms_membership_services", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_lms_membership_services_platform_id"),
            ["platform_id"],
            unique=False,
        )

    op.create_table(
        "lms_line_items",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("activity_id", sa.Uuid(), nullable=False),
        sa.Column("platform_id", sa.Uuid(), nullable=False),
        sa.Column("line_item_url", sa.String(length=1024), nullable=True),
        sa.Column("line_items_url", sa.String(length=1024), nullable=True),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("gone_at", app.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "last_synced_at", app.database.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "created_at", app.database.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", app.database.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activities.id"],
            name=op.f("fk_lms_line_items_activity_id_activities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["platforms.id"],
            name=op.f("fk_lms_line_items_platform_id_platforms"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lms_line_items")),
        sa.UniqueConstraint("activity_id", name=op.f("uq_lms_line_items_activity_id")),
    )
    with op.batch_alter_table("lms_line_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_lms_line_items_platform_id"), ["platform_id"], unique=False
        )

    op.create_table(
        "lms_memberships",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("context_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column(
            "last_seen_at", app.database.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "created_at", app.database.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", app.database.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["context_id"],
            ["contexts.id"],
            name=op.f("fk_lms_memberships_context_id_contexts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_lms_memberships_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lms_memberships")),
        sa.UniqueConstraint(
            "context_id",
            "person_id",
            name=op.f("uq_lms_memberships_context_id_person_id"),
        ),
    )
    with op.batch_alter_table("lms_memberships", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_lms_memberships_context_id"), ["context_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_lms_memberships_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "lms_score_passbacks",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("evidence_id", sa.Uuid(), nullable=False),
        sa.Column("line_item_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column(
            "last_attempt_at", app.database.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "created_at", app.database.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", app.database.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["evidence_id"],
            ["evidence.id"],
            name=op.f("fk_lms_score_passbacks_evidence_id_evidence"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["line_item_id"],
            ["lms_line_items.id"],
            name=op.f("fk_lms_score_passbacks_line_item_id_lms_line_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lms_score_passbacks")),
        sa.UniqueConstraint(
            "evidence_id",
            "line_item_id",
            name=op.f("uq_lms_score_passbacks_evidence_id_line_item_id"),
        ),
    )
    with op.batch_alter_table("lms_score_passbacks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_lms_score_passbacks_evidence_id"),
            ["evidence_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_lms_score_passbacks_line_item_id"),
            ["line_item_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_lms_score_passbacks_status"), ["status"], unique=False
        )

    op.create_table(
        "evidence_events",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("evidence_id", sa.Uuid(), nullable=False),
        sa.Column("event_type", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column(
            "occurred_at", app.database.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["evidence_id"],
            ["evidence.id"],
            name=op.f("fk_evidence_events_evidence_id_evidence"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_events")),
    )
    with op.batch_alter_table("evidence_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_evidence_events_evidence_id"), ["evidence_id"], unique=False
        )


def downgrade() -> None:
    # ### commands auto generated by Alembic - please adjust! ###
    with op.batch_alter_table("evidence_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evidence_events_evidence_id"))

    op.drop_table("evidence_events")
    with op.batch_alter_table("lms_score_passbacks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lms_score_passbacks_status"))
        batch_op.drop_index(batch_op.f("ix_lms_score_passbacks_line_item_id"))
        batch_op.drop_index(batch_op.f("ix_lms_score_passbacks_evidence_id"))

    op.drop_table("lms_score_passbacks")
    with op.batch_alter_table("lms_memberships", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lms_memberships_person_id"))
        batch_op.drop_index(batch_op.f("ix_lms_memberships_context_id"))

    op.drop_table("lms_memberships")
    with op.batch_alter_table("lms_line_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lms_line_items_platform_id"))

    op.drop_table("lms_line_items")
    with op.batch_alter_table("lms_membership_services", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lms_membership_services_platform_id"))

    op.drop_table("lms_membership_services")
    op.drop_table("job_runs")
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sync_runs_source_id"))

    op.drop_table("sync_runs")
    with op.batch_alter_table("case_sources", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_sources_organization_id"))

    op.drop_table("case_sources")
    op.drop_table("mastery_policies")
    with op.batch_alter_table("api_clients", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_clients_organization_id"))

    op.drop_table("api_clients")
    with op.batch_alter_table("mastery", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mastery_organization_id"))
        batch_op.drop_index(batch_op.f("ix_mastery_competency_id"))

    op.drop_table("mastery")
    with op.batch_alter_table("lti_launch_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lti_launch_sessions_expires_at"))

    op.drop_table("lti_launch_sessions")
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.drop_index("ix_evidence_person_occurred")
        batch_op.drop_index(batch_op.f("ix_evidence_activity_id"))

    op.drop_table("evidence")
    with op.batch_alter_table("alignments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alignments_competency_id"))
        batch_op.drop_index(batch_op.f("ix_alignments_activity_id"))

    op.drop_table("alignments")
    with op.batch_alter_table("associations", schema=None) as batch_op:
        batch_op.drop_index("ix_associations_origin_type")
        batch_op.drop_index(batch_op.f("ix_associations_framework_id"))
        batch_op.drop_index("ix_associations_destination_type")
        batch_op.drop_index(batch_op.f("ix_associations_association_type"))

    op.drop_table("associations")
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_activities_organization_id"))
        batch_op.drop_index(batch_op.f("ix_activities_context_id"))

    op.drop_table("activities")
    with op.batch_alter_table("person_identifiers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_identifiers_person_id"))

    op.drop_table("person_identifiers")
    with op.batch_alter_table("deployments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deployments_platform_id"))

    op.drop_table("deployments")
    with op.batch_alter_table("contexts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contexts_platform_id"))
        batch_op.drop_index(batch_op.f("ix_contexts_organization_id"))

    op.drop_table("contexts")
    with op.batch_alter_table("competencies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_competencies_identifier_key"))
        batch_op.drop_index(batch_op.f("ix_competencies_human_coding_scheme"))
        batch_op.drop_index(batch_op.f("ix_competencies_framework_id"))
        batch_op.drop_index(batch_op.f("ix_competencies_alias_key"))

    op.drop_table("competencies")
    with op.batch_alter_table("platforms", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_platforms_organization_id"))
        batch_op.drop_index(batch_op.f("ix_platforms_issuer"))

    op.drop_table("platforms")
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_people_organization_id"))

    op.drop_table("people")
    with op.batch_alter_table("frameworks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_frameworks_organization_id"))
        batch_op.drop_index(batch_op.f("ix_frameworks_identifier_key"))

    op.drop_table("frameworks")
    with op.batch_alter_table("tool_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tool_keys_status"))

    op.drop_table("tool_keys")
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_organizations_parent_id"))

    op.drop_table("organizations")
    with op.batch_alter_table("lti_used_nonces", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lti_used_nonces_expires_at"))

    op.drop_table("lti_used_nonces")
    with op.batch_alter_table("lti_state_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lti_state_entries_expires_at"))

    op.drop_table("lti_state_entries")

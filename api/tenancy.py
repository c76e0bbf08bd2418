"""API for tenancy: the current user, districts, schools and memberships.

Reads come from tenancy.selectors, writes go through tenancy.services; the base class does the
scoping and the permission checks.
"""
from __future__ import annotations

import django_filters
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers
from rest_framework.response import Response

from tenancy import selectors, services
from tenancy.models import District, Membership, School, User
from tenancy.roles import Role

from .base import (
    VISIBLE,
    ReadOnlyScopedViewSet,
    ScopedViewSet,
    TenantFilter,
    VisibleDistrictField,
    VisibleSchoolField,
    narrow,
)


# ---------------------------------------------------------------- serializers
class NamedRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)


class UserRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "username", "display_name"]
        read_only_fields = fields


class DistrictSerializer(serializers.ModelSerializer):
    class Meta:
        model = District
        fields = ["id", "name", "code", "created_at"]
        read_only_fields = fields


class SchoolSerializer(serializers.ModelSerializer):
    district = VisibleDistrictField()
    parent = VisibleSchoolField(required=False, allow_null=True)
    depth = serializers.IntegerField(read_only=True)

    class Meta:
        model = School
        fields = [
            "id", "district", "parent", "name", "code", "township", "address", "opened_on", "closed_on",
            "path", "depth", "created_at",
        ]
        read_only_fields = ["id", "path", "depth", "created_at"]
        # Uniqueness is the service's job (full_clean inside its transaction).
        validators: list = []


class SchoolUpdateSerializer(SchoolSerializer):
    """A school stays in its district; everything else may change."""

    district = serializers.PrimaryKeyRelatedField(read_only=True)


class MembershipSerializer(serializers.ModelSerializer):
    user = UserRefSerializer(read_only=True)
    role_display = serializers.CharField(source="get_role_display", read_only=True)
    school = NamedRefSerializer(read_only=True, allow_null=True)
    district = NamedRefSerializer(read_only=True, allow_null=True)
    granted_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = Membership
        fields = ["id", "user", "role", "role_display", "school", "district", "granted_by", "created_at"]
        read_only_fields = fields


class MembershipCreateSerializer(serializers.Serializer):
    """Grant a role to a user, creating the staff user if the username is new."""

    role = serializers.ChoiceField(choices=Role.choices)
    school = VisibleSchoolField(required=False, allow_null=True, help_text="For school roles.")
    district = VisibleDistrictField(required=False, allow_null=True, help_text="For bureau roles.")
    username = serializers.CharField(max_length=150)
    display_name = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    password = serializers.CharField(
        write_only=True, required=False, allow_blank=True, default="", style={"input_type": "password"},
        help_text="Only used when the username is new; without one the user cannot log in yet.",
    )

    def validate(self, attrs):
        if bool(attrs.get("school")) == bool(attrs.get("district")):
            raise serializers.ValidationError(_("Name either a school (school roles) or a district (bureau roles)."))
        if attrs["password"]:
            try:
                validate_password(attrs["password"], User(username=attrs["username"]))
            except DjangoValidationError as exc:
                raise serializers.ValidationError({"password": list(exc.messages)}) from exc
        return attrs

    def to_representation(self, instance):
        return MembershipSerializer(instance, context=self.context).data


class PermissionsOnSerializer(NamedRefSerializer):
    permissions = serializers.ListField(child=serializers.CharField(), read_only=True)


class MeSerializer(serializers.ModelSerializer):
    # A plain string: the address is optional, and "" is not of the "email" format the model field implies.
    email = serializers.CharField(read_only=True, help_text="Empty when none is on file.")
    memberships = serializers.SerializerMethodField()
    schools = serializers.SerializerMethodField(help_text="Effective permissions on every school you can see.")
    districts = serializers.SerializerMethodField(help_text="Permissions held on districts (bureau roles).")

    class Meta:
        model = User
        fields = ["id", "username", "display_name", "email", "memberships", "schools", "districts"]
        read_only_fields = fields

    @extend_schema_field(MembershipSerializer(many=True))
    def get_memberships(self, user) -> list[dict]:
        return MembershipSerializer(selectors.memberships_of(user), many=True, context=self.context).data

    @extend_schema_field(PermissionsOnSerializer(many=True))
    def get_schools(self, user) -> list[dict]:
        perms = selectors.permissions_by_school(user)
        schools = selectors.schools_visible_to(user).only("id", "name")
        return [{"id": s.id, "name": s.name, "permissions": sorted(perms.get(s.id, ()))} for s in schools]

    @extend_schema_field(PermissionsOnSerializer(many=True))
    def get_districts(self, user) -> list[dict]:
        out = []
        for m in selectors.memberships_of(user):
            if m.district_id:
                perms = selectors.permissions_on_district(user, m.district)
                out.append({"id": m.district_id, "name": m.district.name, "permissions": sorted(perms)})
        return list({d["id"]: d for d in out}.values())


# ---------------------------------------------------------------- filtersets
# Ids are plain numbers, not model choices: a choice filter would answer "not a valid choice" for
# an id that does not exist but an empty list for another school's id, revealing which exist.
class DistrictFilter(django_filters.FilterSet):
    code = django_filters.CharFilter()

    class Meta:
        model = District
        fields = ["code"]


class SchoolFilter(django_filters.FilterSet):
    district = django_filters.NumberFilter(field_name="district_id")
    parent = django_filters.NumberFilter(field_name="parent_id")
    code = django_filters.CharFilter()

    class Meta:
        model = School
        fields = ["district", "parent", "code"]


class MembershipFilter(django_filters.FilterSet):
    role = django_filters.ChoiceFilter(choices=Role.choices)
    school = django_filters.NumberFilter(field_name="school_id")
    district = django_filters.NumberFilter(field_name="district_id")
    user = django_filters.NumberFilter(field_name="user_id")

    class Meta:
        model = Membership
        fields = ["role", "school", "district", "user"]


# ---------------------------------------------------------------- viewsets
class OwnAccountViewSet(ScopedViewSet):
    """A read of what belongs to the signed-in user alone (their account, their to-do list):
    users belong to no one tenant, so the tenant filter is the user themself."""

    abstract = True
    model = User
    action_permissions = {"retrieve": VISIBLE}
    tenant_filter = TenantFilter("a user's own account: users belong to no one tenant",
                                 lambda user: Q(pk=user.pk))


class MeViewSet(OwnAccountViewSet):
    """The authenticated user, their memberships and effective permissions."""

    serializer_class = MeSerializer

    def retrieve(self, request, *args, **kwargs):
        return Response(self.get_serializer(request.user).data)


class DistrictViewSet(ReadOnlyScopedViewSet):
    model = District
    serializer_class = DistrictSerializer
    filterset_class = DistrictFilter

    def scoped_queryset(self, queryset):
        # The user's districts: exactly the base's tenant filter.
        return queryset


@extend_schema_view(
    create=extend_schema(description="Bureau admins only (permission manage_schools on the district)."),
    update=extend_schema(request=SchoolUpdateSerializer),
    partial_update=extend_schema(request=SchoolUpdateSerializer),
)
class SchoolViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                    mixins.CreateModelMixin, mixins.UpdateModelMixin):
    model = School
    filterset_class = SchoolFilter
    action_permissions = {
        "list": VISIBLE, "retrieve": VISIBLE,
        "create": "manage_schools", "update": "manage_schools", "partial_update": "manage_schools",
    }

    def get_serializer_class(self):
        return SchoolUpdateSerializer if self.action in ("update", "partial_update") else SchoolSerializer

    def scoped_queryset(self, queryset):
        # The schools the user sees: exactly the base's tenant filter.
        return queryset.select_related("district")

    def create_via_service(self, data):
        return services.school_create(actor=self.request.user, **data)

    def update_via_service(self, instance, data):
        return services.school_update(school=instance, actor=self.request.user, **data)


@extend_schema_view(
    create=extend_schema(
        request=MembershipCreateSerializer, responses={201: MembershipSerializer},
        description="Grant a role. A new username creates the staff user. Nobody grants a role above their own.",
    ),
    destroy=extend_schema(description="Revoke the role."),
)
class MembershipViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                        mixins.CreateModelMixin, mixins.DestroyModelMixin):
    model = Membership
    filterset_class = MembershipFilter
    # A membership is a role on one school or one district: it belongs to that tenant.
    tenant_filter = TenantFilter(
        "a role belongs to the school or the district it is held on",
        lambda user: Q(school_id__in=selectors.school_ids_for_user(user))
        | Q(district_id__in=selectors.district_ids_for_user(user)))
    action_permissions = {
        "list": VISIBLE, "retrieve": VISIBLE, "create": "manage_staff", "destroy": "manage_staff",
    }

    def get_serializer_class(self):
        return MembershipCreateSerializer if self.action == "create" else MembershipSerializer

    def scoped_queryset(self, queryset):
        return narrow(queryset, selectors.memberships_visible_to(self.request.user)).select_related("granted_by")

    def create_via_service(self, data):
        actor = self.request.user
        if data.get("school") is not None:
            return services.staff_add(
                actor=actor, school=data["school"], username=data["username"],
                display_name=data["display_name"], role=data["role"], password=data["password"] or None,
                request=self.request,
            )
        user = User.objects.filter(username=data["username"]).first()
        if user is None:
            raise serializers.ValidationError({"username": [_("Bureau roles are granted to existing users only.")]})
        return services.membership_grant(user=user, role=data["role"], district=data["district"], actor=actor,
                                         request=self.request)

    def destroy_via_service(self, instance):
        services.membership_revoke(membership=instance, actor=self.request.user, request=self.request)

"""Tenancy: a merchant, the people who work for it, and its API keys."""

from django.conf import settings
from django.db import models


class Merchant(models.Model):
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    contact_email = models.EmailField(blank=True)
    # Used by marketplaces that want to know who calls them (Back Market's User-Agent).
    company_name = models.CharField(max_length=200, blank=True)
    packing_slip_paper = models.CharField(max_length=8, choices=[("A4", "A4"), ("Letter", "Letter")], default="A4")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    STAFF = "staff", "Staff"
    WAREHOUSE = "warehouse", "Warehouse"


class Membership(models.Model):
    """A user works for exactly one merchant; the role decides what they may change."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership")
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.STAFF)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.user} @ {self.merchant} ({self.role})"


class ApiKey(models.Model):
    """HTTP Basic credentials for the REST API: the key is public, only a hash of the secret is kept.

    Secrets are 32 random bytes, so a fast keyed hash is enough (no password stretching needed),
    which keeps every API request cheap.
    """

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100, blank=True)
    key = models.CharField(max_length=64, unique=True)
    secret_hash = models.CharField(max_length=128)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.key} ({self.merchant})"

"""A school's home (留守儿童之家): calendar, site, rules, proxy parents, the children's archive,
the four contacts, activities, study support and evidence.

Everything except Semester is school-owned (tenancy.models.SchoolOwnedModel): NOT NULL school FK,
a manager that refuses to query without a scope, and PostgreSQL row-level security applied after
migrate. Semester is district-owned (tenancy.models.DistrictOwnedModel): the same on the district.
Indexes lead with `school` so the RLS predicate and the filters share them.

Writes go through schools.services only; reads that need scope or aggregation through
schools.selectors.
"""

from .activities import (  # noqa: F401
    Activity,
    ActivityParticipant,
    ActivityQuerySet,
    ThemeSchedule,
)
from .children import (  # noqa: F401
    Child,
    ChildStatusChange,
    ChildUserObjectPermission,
)
from .contacts import (  # noqa: F401
    CareContact,
    ChildContactSummary,
)
from .evidence import (  # noqa: F401
    Evidence,
    ReusedEvidenceFlag,
    evidence_folder,
)
from .home import (  # noqa: F401
    ActivitySite,
    Equipment,
    LeadershipMember,
    RuleDocument,
    RuleDocumentVersion,
    RuleKind,
)
from .semesters import (  # noqa: F401
    Semester,
)
from .staff import (  # noqa: F401
    ProxyAssignment,
    StaffProfile,
    TrainingAttendance,
    TrainingMeeting,
    WorkRecordEntry,
)
from .study import (  # noqa: F401
    StudyPair,
    TutoringSession,
)

"""The demo district: schools, the org tree and one user per role. Idempotent."""
from __future__ import annotations

from . import services
from .models import District, School, User
from .roles import Role

DEMO_PASSWORD = "Demo2026!"

DISTRICT = {"code": "mingguang", "name": "明光市教育局"}
# (code, name, parent code, township)
SCHOOLS = [
    ("gupei", "古沛中心小学", None, "古沛镇"),
    ("gupei-shiba", "古沛镇石坝小学", "gupei", "古沛镇"),
    ("gupei-weigang", "古沛镇魏岗小学", "gupei", "古沛镇"),
    ("menzhuang", "门庄小学", None, "明东街道"),
    ("jianxi", "涧溪中心小学", None, "涧溪镇"),
    ("pancun", "潘村小学", None, "潘村镇"),
    ("qiaotou", "桥头小学", None, "桥头镇"),
    ("zhangbaling", "张八岭小学", None, "张八岭镇"),
]
# (username, display name, role, target school code or None for the district)
USERS = [
    ("bureau_admin", "王局长", Role.BUREAU_ADMIN, None),
    ("bureau_inspector", "李督学", Role.BUREAU_INSPECTOR, None),
    ("gupei_township", "古沛中心校 赵主任", Role.TOWNSHIP_ADMIN, "gupei"),
    ("gupei_admin", "古沛 陈校长", Role.SCHOOL_ADMIN, "gupei"),
    ("gupei_teacher", "古沛 刘老师", Role.TEACHER, "gupei"),
    ("gupei_clerk", "古沛 周老师（材料员）", Role.CLERK, "gupei"),
    ("menzhuang_admin", "门庄 孙校长", Role.SCHOOL_ADMIN, "menzhuang"),
    ("menzhuang_teacher", "门庄 吴老师", Role.TEACHER, "menzhuang"),
]


def seed(ctx: dict) -> None:
    district = District.objects.filter(code=DISTRICT["code"]).first() or services.district_create(
        name=DISTRICT["name"], code=DISTRICT["code"])
    schools: dict[str, School] = {}
    for code, name, parent_code, township in SCHOOLS:
        school = School.objects.filter(district=district, code=code).first()
        if school is None:
            school = services.school_create(
                district=district, name=name, code=code, township=township,
                parent=schools[parent_code] if parent_code else None,
            )
        schools[code] = school
    users: dict[str, User] = {}
    for username, display, role, school_code in USERS:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = services.user_create(username=username, password=DEMO_PASSWORD, display_name=display)
        target = {"school": schools[school_code]} if school_code else {"district": district}
        services.membership_grant(user=user, role=role, **target)
        users[username] = user
    ctx.update(district=district, schools=schools, users=users)

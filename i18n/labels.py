"""Chinese (default) and English texts for every word the dashboard shows.

One table per kind of word, keyed by the same enums the lifecycle uses, so a new
status, action or refusal without a label fails ``tests/dashboard/test_pure.py``
instead of showing a raw enum value to a duty officer.
"""

from __future__ import annotations

from typing import Literal

from alerts.lifecycle import Action, Refusal, Role
from alerts.status import Status
from i18n.texts import PAGE_MESSAGES

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")
DEFAULT_LANG: Lang = "zh"


def as_lang(value: object) -> Lang:
    """Any stored or submitted value narrowed to a supported language (unknown → Chinese)."""
    return "en" if value == "en" else "zh"


STATUS: dict[Status, dict[Lang, str]] = {
    Status.NEW: {"zh": "待分拨", "en": "New"},
    Status.DISPATCHED: {"zh": "已分拨", "en": "Dispatched"},
    Status.SIGNED: {"zh": "已签收", "en": "Signed for"},
    Status.IN_PROGRESS: {"zh": "处置中", "en": "In progress"},
    Status.POSTPONED: {"zh": "缓办中", "en": "Postponed"},
    Status.RESOLVED: {"zh": "已反馈", "en": "Awaiting verification"},
    Status.CLOSED: {"zh": "已结案", "en": "Closed"},
    Status.MERGED: {"zh": "已合并", "en": "Merged"},
}

ACTION: dict[Action, dict[Lang, str]] = {
    Action.CREATE: {"zh": "立案", "en": "Create"},
    Action.DISPATCH: {"zh": "派遣", "en": "Dispatch"},
    Action.SIGN: {"zh": "签收", "en": "Sign for"},
    Action.PROGRESS: {"zh": "处置进展", "en": "Progress"},
    Action.FEEDBACK: {"zh": "处置反馈", "en": "Feedback"},
    Action.VERIFY: {"zh": "核查结案", "en": "Verify & close"},
    Action.REWORK: {"zh": "返工", "en": "Rework"},
    Action.RETURN: {"zh": "退单", "en": "Send back"},
    Action.TRANSFER: {"zh": "转派", "en": "Transfer"},
    Action.ASSIST: {"zh": "协办", "en": "Add assisting unit"},
    Action.POSTPONE: {"zh": "缓办", "en": "Postpone"},
    Action.RESUME: {"zh": "恢复办理", "en": "Resume"},
    Action.MERGE: {"zh": "合并", "en": "Merge"},
    Action.RELEVEL: {"zh": "调整级别", "en": "Change level"},
    Action.AMEND: {"zh": "修改位置/类别", "en": "Amend location/category"},
    Action.CONFIRM_AREA: {"zh": "确认属地", "en": "Confirm area"},
    Action.REMIND: {"zh": "催办", "en": "Reminder"},
    Action.ESCALATE: {"zh": "升级督办", "en": "Escalation"},
}

ROLE: dict[Role, dict[Lang, str]] = {
    Role.SYSTEM: {"zh": "系统", "en": "System"},
    Role.COMMAND: {"zh": "指挥中心值班员", "en": "Command duty officer"},
    Role.TOWNSHIP: {"zh": "镇街工作人员", "en": "Township staff"},
    Role.LEADER: {"zh": "领导", "en": "Leader"},
    Role.ADMIN: {"zh": "管理员", "en": "Administrator"},
}

# Level 1 is the most severe (national four-colour scheme: 红 I … 蓝 IV).
LEVEL: dict[int, dict[Lang, str]] = {
    1: {"zh": "红色 I级", "en": "Red (I)"},
    2: {"zh": "橙色 II级", "en": "Orange (II)"},
    3: {"zh": "黄色 III级", "en": "Yellow (III)"},
    4: {"zh": "蓝色 IV级", "en": "Blue (IV)"},
}
# Incident categories (of the rules in alerts/rules.toml and of department events); one without a label shows as is.
CATEGORY: dict[str, dict[Lang, str]] = {
    "flood": {"zh": "防汛防台", "en": "Flood"},
    "production_safety": {"zh": "生产安全", "en": "Production safety"},
    "public_safety": {"zh": "公共安全", "en": "Public safety"},
    "hotline": {"zh": "民生诉求", "en": "Citizen hotline"},
    "device_health": {"zh": "设备运维", "en": "Device health"},
}

LEVEL_COLOR: dict[int, str] = {1: "#d7191c", 2: "#fd8d3c", 3: "#fee08b", 4: "#2b83ba"}

# Refusals are said per action where the generic sentence would mislead the user.
REFUSAL: dict[Refusal, dict[Lang, str]] = {
    Refusal.WRONG_STATE: {"zh": "该事件状态已变化，无法执行此操作，请刷新",
                          "en": "The incident's state has changed; this action is no longer possible. Please refresh."},
    Refusal.WRONG_ROLE: {"zh": "您的角色无权执行此操作", "en": "Your role may not perform this action."},
    Refusal.NOT_YOUR_TOWNSHIP: {"zh": "该事件不属于本镇街，无权处理",
                                "en": "This incident does not belong to your township."},
    Refusal.NOTE_REQUIRED: {"zh": "请填写说明", "en": "Please enter a note."},
    Refusal.TARGET_REQUIRED: {"zh": "请选择派遣的镇街", "en": "Please choose a township to dispatch to."},
    Refusal.SAME_TARGET: {"zh": "不能转派给当前承办单位", "en": "The incident is already with that unit."},
    Refusal.SENSOR_STILL_BREACHING: {
        "zh": "监测设备仍在报警，不能结案；如确需结案请勾选强制结案并填写理由",
        "en": "The sensor still breaches its rule; to close anyway, choose override and give a reason."},
    Refusal.NOT_NEAR_BOUNDARY: {
        "zh": "属地已确认或该事件不在边界附近，无需确认，请刷新",
        "en": "The area is confirmed already, or the point is not near a border. Please refresh."},
}
REFUSAL_BY_ACTION: dict[tuple[Refusal, Action], dict[Lang, str]] = {
    (Refusal.WRONG_STATE, Action.SIGN): {"zh": "该事件已签收或状态已变化，请刷新",
                                         "en": "Already signed for or changed meanwhile; please refresh."},
    (Refusal.WRONG_STATE, Action.VERIFY): {"zh": "该事件已结案或状态已变化，请刷新",
                                           "en": "Already closed or changed meanwhile; please refresh."},
    (Refusal.WRONG_STATE, Action.DISPATCH): {"zh": "该事件已派遣或状态已变化，请刷新",
                                             "en": "Already dispatched or changed meanwhile; please refresh."},
    (Refusal.NOTE_REQUIRED, Action.FEEDBACK): {"zh": "请填写处置情况", "en": "Please describe what was done."},
    (Refusal.NOTE_REQUIRED, Action.RETURN): {"zh": "请填写退单原因", "en": "Please give the reason for sending back."},
    (Refusal.NOTE_REQUIRED, Action.REWORK): {"zh": "请填写返工原因", "en": "Please give the reason for rework."},
    (Refusal.NOTE_REQUIRED, Action.TRANSFER): {"zh": "请填写转派原因", "en": "Please give the reason for transfer."},
    (Refusal.NOTE_REQUIRED, Action.POSTPONE): {"zh": "请填写缓办理由", "en": "Please give the reason to postpone."},
    (Refusal.NOTE_REQUIRED, Action.MERGE): {"zh": "请填写合并说明", "en": "Please explain the merge."},
    (Refusal.NOTE_REQUIRED, Action.ASSIST): {"zh": "请填写协办事项说明",
                                             "en": "Please say what they should help with."},
    (Refusal.TARGET_REQUIRED, Action.TRANSFER): {"zh": "请选择转派的镇街",
                                                 "en": "Please choose a township to transfer to."},
    (Refusal.TARGET_REQUIRED, Action.ASSIST): {"zh": "请选择协办镇街", "en": "Please choose an assisting township."},
    (Refusal.SAME_TARGET, Action.ASSIST): {"zh": "该镇街已是承办或协办单位",
                                           "en": "That township already handles or assists this incident."},
    (Refusal.WRONG_STATE, Action.MERGE): {"zh": "该事件已合并或状态已变化，请刷新",
                                          "en": "Already merged or changed meanwhile; please refresh."},
    (Refusal.WRONG_STATE, Action.POSTPONE): {"zh": "该事件已缓办或状态已变化，请刷新",
                                             "en": "Already postponed or changed meanwhile; please refresh."},
    (Refusal.WRONG_STATE, Action.RESUME): {"zh": "该事件已恢复办理或状态已变化，请刷新",
                                           "en": "Already resumed or changed meanwhile; please refresh."},
    (Refusal.TARGET_REQUIRED, Action.MERGE): {"zh": "请填写要合并到的未结案事件编号",
                                              "en": "Please give the open incident to merge into."},
}

MESSAGES: dict[str, dict[Lang, str]] = {
    "app.title": {"zh": "郴州市城市运行一网统管", "en": "Chenzhou City Operations"},
    "nav.map": {"zh": "一张图", "en": "City map"},
    "nav.township": {"zh": "镇街工作台", "en": "Township desk"},
    "nav.command": {"zh": "值班指挥", "en": "Command desk"},
    "nav.logout": {"zh": "退出", "en": "Log out"},
    "nav.switch_lang": {"zh": "English", "en": "中文"},
    "login.title": {"zh": "登录", "en": "Log in"},
    "login.username": {"zh": "用户名", "en": "User name"},
    "login.password": {"zh": "密码", "en": "Password"},
    "login.submit": {"zh": "登录", "en": "Log in"},
    "login.failed": {"zh": "用户名或密码错误", "en": "Wrong user name or password"},
    "login.expired": {"zh": "页面已过期，请重新登录", "en": "The page expired; please log in again"},
    "login.locked": {"zh": "登录失败次数过多，已暂时锁定，请于 {until} 后再试或联系管理员解锁",
                     "en": "Too many failed logins: locked; try again after {until} or ask an admin to unlock"},
    "login.disabled": {"zh": "该账号已停用，请联系管理员", "en": "This account is disabled; ask an admin"},
    "auth.required": {"zh": "请先登录", "en": "Please log in"},
    "auth.forbidden": {"zh": "您的角色无权查看此页面", "en": "Your role may not view this page"},
    "kpi.today_new": {"zh": "今日新增", "en": "New today"},
    "kpi.dispatched": {"zh": "待签收", "en": "Awaiting sign-for"},
    "kpi.signed": {"zh": "处置中", "en": "Being handled"},
    "kpi.closed": {"zh": "今日结案", "en": "Closed today"},
    "kpi.open": {"zh": "未结案", "en": "Open"},
    "kpi.overdue": {"zh": "超时", "en": "Overdue"},
    "map.warnings": {"zh": "最新预警", "en": "Latest warnings"},
    "map.no_warnings": {"zh": "暂无预警", "en": "No warnings"},
    "map.legend": {"zh": "未结案事件", "en": "Open incidents"},
    "map.clicked": {"zh": "查看事件详情", "en": "Open incident"},
    "map.updated": {"zh": "更新于", "en": "Updated"},
    "map.illustrative": {"zh": "镇街边界为示意", "en": "Township boundaries are illustrative"},
    "warning.cleared": {"zh": "已解除", "en": "cleared"},
    "township.title": {"zh": "镇街工作台", "en": "Township desk"},
    "township.empty": {"zh": "本镇街暂无待办事件", "en": "No open incidents for your township"},
    "township.feedback": {"zh": "处置反馈", "en": "Report feedback"},
    "township.return": {"zh": "退单", "en": "Send back"},
    "township.note": {"zh": "处置情况（必填）", "en": "What was done (required)"},
    "township.evacuated": {"zh": "转移人数", "en": "People evacuated"},
    "township.photo": {"zh": "现场照片（可选，拖入或点击选择）", "en": "Photo (optional: drop or click)"},
    "township.submit_feedback": {"zh": "提交反馈", "en": "Submit feedback"},
    "township.reason": {"zh": "退单原因（必填）", "en": "Reason (required)"},
    "township.submit_return": {"zh": "确认退单", "en": "Send back"},
    "township.cancel": {"zh": "取消", "en": "Cancel"},
    "township.selected": {"zh": "当前事件", "en": "Incident"},
    "common.none": {"zh": "无", "en": "none"},
    "common.refresh": {"zh": "刷新", "en": "Refresh"},
    "common.details": {"zh": "详情", "en": "Details"},
    "common.done": {"zh": "操作成功", "en": "Done"},
    "common.error": {"zh": "操作失败，请稍后重试", "en": "The action failed; please try again"},
    "common.not_found": {"zh": "事件不存在", "en": "No such incident"},
    "err.evacuated_int": {"zh": "转移人数须为不小于 0 的整数", "en": "People evacuated must be a whole number ≥ 0"},
    "err.evacuated_big": {"zh": "转移人数过大，请核实", "en": "People evacuated is implausibly large; please check"},
    "err.photo_type": {"zh": "照片须为 JPEG、PNG 或 WebP 图片", "en": "The photo must be a JPEG, PNG or WebP image"},
    "err.photo_size": {"zh": "照片不能超过 5 MB", "en": "The photo must be at most 5 MB"},
    "err.choose_township": {"zh": "请选择派遣的镇街", "en": "Choose a township"},
    "command.title": {"zh": "值班指挥", "en": "Command desk"},
    "command.verify_queue": {"zh": "待核查（已反馈）", "en": "Awaiting verification"},
    "command.new_queue": {"zh": "待分拨", "en": "To dispatch"},
    "command.open_queue": {"zh": "处置中的事件", "en": "Being handled"},
    "command.rework_reason": {"zh": "返工原因（必填）", "en": "Rework reason (required)"},
    "command.choose_township": {"zh": "选择镇街", "en": "Choose township"},
    "command.read_only": {"zh": "只读：仅值班员可操作", "en": "Read only: only duty officers act"},
    "command.empty": {"zh": "无", "en": "None"},
    "col.id": {"zh": "编号", "en": "No."},
    "col.title": {"zh": "事件", "en": "Incident"},
    "col.level": {"zh": "等级", "en": "Level"},
    "col.status": {"zh": "状态", "en": "Status"},
    "col.township": {"zh": "镇街", "en": "Township"},
    "col.deadline": {"zh": "时限", "en": "Deadline"},
    "col.created": {"zh": "立案时间", "en": "Created"},
    "col.category": {"zh": "类别", "en": "Category"},
    "col.location": {"zh": "位置", "en": "Location"},
    "col.at": {"zh": "时间", "en": "Time"},
    "col.actor": {"zh": "操作人", "en": "Actor"},
    "col.role": {"zh": "角色", "en": "Role"},
    "col.action": {"zh": "操作", "en": "Action"},
    "col.transition": {"zh": "状态变化", "en": "From → to"},
    "col.note": {"zh": "说明", "en": "Note"},
    "col.details": {"zh": "附加信息", "en": "Details"},
    "col.source": {"zh": "来源", "en": "Source"},
    "incident.title": {"zh": "事件详情", "en": "Incident"},
    "incident.log": {"zh": "处置记录", "en": "Log"},
    "incident.timeline": {"zh": "状态时间线", "en": "Timeline"},
    "incident.photos": {"zh": "现场照片", "en": "Photos"},
    "incident.no_photos": {"zh": "无照片", "en": "No photos"},
    "incident.rework_count": {"zh": "返工次数", "en": "Reworks"},
    "time.remaining": {"zh": "剩余 {d}", "en": "{d} left"},
    "time.overdue": {"zh": "已超时 {d}", "en": "{d} overdue"},
    "time.days": {"zh": "{n}天", "en": "{n} d"},
    "time.hours": {"zh": "{n}小时", "en": "{n} h"},
    "time.minutes": {"zh": "{n}分", "en": "{n} min"},
    "time.sign_by": {"zh": "签收时限", "en": "Sign for by"},
    "time.finish_by": {"zh": "办结时限", "en": "Finish by"},
    "details.people_evacuated": {"zh": "转移人数", "en": "People evacuated"},
    "details.simulated": {"zh": "演示模拟人员操作", "en": "Simulated staff (demo)"},
    "details.township_code": {"zh": "镇街", "en": "Township"},
    "details.photo": {"zh": "照片", "en": "Photo"},
    "details.near_boundary": {"zh": "近边界", "en": "Near a boundary"},
    # -- near a township border (the dispatcher confirms the area) --
    "near.badge": {"zh": "近边界·请确认属地", "en": "Near a boundary: confirm the area"},
    "near.badge_help": {"zh": "事发位置靠近镇街边界，可能属于相邻镇街：请核实属地，无误后点“确认属地”，有误请转派",
                        "en": "The point is close to a township border and may belong to the neighbour: check,"
                              " then confirm the area, or transfer the incident"},
    "near.township_hint": {"zh": "位置靠近镇街边界，可能不属于本镇街；如确不属本镇，请退单并写明原因",
                           "en": "Near a township border: this may not be yours. If it is not, send it back"
                                 " with the reason."},
    "command.confirm_note": {"zh": "核实情况（可选）", "en": "How it was checked (optional)"},
    # -- log details: the keys the lifecycle, the escalation ladder and amendments write --
    "details.from_level": {"zh": "原等级", "en": "Previous level"},
    "details.tier": {"zh": "督办层级", "en": "Escalation tier"},
    "details.tier_n": {"zh": "第{n}级", "en": "{n}"},
    "details.to": {"zh": "督办对象", "en": "Sent to"},
    "details.to.township": {"zh": "承办镇街", "en": "the township"},
    "details.to.district": {"zh": "区县指挥中心", "en": "the district command center"},
    "details.to.leader": {"zh": "分管领导", "en": "the leader in charge"},
    "details.township_code_of_point": {"zh": "点位所在镇街", "en": "Township of the point"},
    # -- long tables in pages, long queues on the command desk --
    "pager.prev": {"zh": "上一页", "en": "Previous"},
    "pager.next": {"zh": "下一页", "en": "Next"},
    "pager.label": {"zh": "第 {page}/{pages} 页，共 {n} 条", "en": "Page {page} of {pages} · {n} rows"},
    "command.shown": {"zh": "按紧急程度显示前 {shown} 条", "en": "The {shown} most urgent shown"},
    "command.more": {"zh": "显示更多（还有 {n} 条）", "en": "Show more ({n} more)"},
    "command.less": {"zh": "收起", "en": "Show fewer"},
}

if set(MESSAGES) & set(PAGE_MESSAGES):
    raise RuntimeError(f"texts defined twice: {sorted(set(MESSAGES) & set(PAGE_MESSAGES))}")
MESSAGES.update(PAGE_MESSAGES)


def t(key: str, lang: Lang, **fmt: object) -> str:
    """The text for ``key``; a missing key raises, so typos fail tests instead of showing keys."""
    text = MESSAGES[key][lang]
    return text.format(**fmt) if fmt else text


def status_label(status: str | None, lang: Lang) -> str:
    if status is None:
        return "—"
    try:
        return STATUS[Status(status)][lang]
    except ValueError:
        return status  # a status from a newer lifecycle: show it rather than crash the page


def action_label(action: str, lang: Lang) -> str:
    try:
        return ACTION[Action(action)][lang]
    except ValueError:
        return action


def role_label(role: str, lang: Lang) -> str:
    try:
        return ROLE[Role(role)][lang]
    except ValueError:
        return role


def category_label(category: str, lang: Lang) -> str:
    return CATEGORY.get(category, {}).get(lang, category)


def level_label(level: int, lang: Lang) -> str:
    return LEVEL.get(level, {"zh": f"{level}级", "en": f"Level {level}"})[lang]


def refusal_message(refusal: Refusal, action: Action, lang: Lang) -> str:
    specific = REFUSAL_BY_ACTION.get((refusal, action))
    return (specific or REFUSAL[refusal])[lang]

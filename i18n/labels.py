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
    Status.REPORTED: {"zh": "待受理", "en": "Reported, awaiting acceptance"},
    Status.DECLINED: {"zh": "不予立案", "en": "Declined"},
    Status.SITE_CHECK: {"zh": "待现场核查", "en": "Awaiting on-site check"},
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
    Action.ASSIST_SIGN: {"zh": "协办签收", "en": "Sign for assisting part"},
    Action.ASSIST_PROGRESS: {"zh": "协办进展", "en": "Assisting progress"},
    Action.ASSIST_FEEDBACK: {"zh": "协办反馈", "en": "Assisting feedback"},
    Action.PATROL_REPORT: {"zh": "巡查上报", "en": "Patrol report"},
    Action.ACCEPT: {"zh": "受理立案", "en": "Accept"},
    Action.DECLINE: {"zh": "不予立案", "en": "Decline"},
    Action.SITE_PASS: {"zh": "现场核查通过", "en": "On-site check passed"},
    Action.SITE_FAIL: {"zh": "现场核查不通过（返工）", "en": "On-site check failed (rework)"},
    Action.RETAG: {"zh": "属地变更", "en": "Area re-tagged"},
}

ROLE: dict[Role, dict[Lang, str]] = {
    Role.SYSTEM: {"zh": "系统", "en": "System"},
    Role.COMMAND: {"zh": "指挥中心值班员", "en": "Command duty officer"},
    Role.DISTRICT: {"zh": "区县指挥中心值班员", "en": "District command duty officer"},
    Role.TOWNSHIP: {"zh": "镇街工作人员", "en": "Township staff"},
    Role.DEPARTMENT: {"zh": "部门工作人员", "en": "Department staff"},
    Role.GRID: {"zh": "网格员", "en": "Grid member"},
    Role.LEADER: {"zh": "领导", "en": "Leader"},
    Role.ADMIN: {"zh": "管理员", "en": "Administrator"},
}

# The login log's events by their stored value (store.audit.AuthEvent): one without a label shows as is.
AUTH_EVENT: dict[str, dict[Lang, str]] = {
    "login": {"zh": "登录", "en": "Login"},
    "login_failed": {"zh": "登录失败", "en": "Failed login"},
    "locked_out": {"zh": "锁定中，拒绝登录", "en": "Refused: locked out"},
    "logout": {"zh": "退出", "en": "Logout"},
    "expired": {"zh": "会话结束", "en": "Session ended"},
    "refused": {"zh": "拒绝访问", "en": "Access refused"},
    "unlocked": {"zh": "解除锁定", "en": "Unlocked"},
    "disabled": {"zh": "已停用账号尝试登录", "en": "Disabled account tried to log in"},
    "pii_viewed": {"zh": "查看诉求人信息（未脱敏）", "en": "Reporter's personal data viewed unmasked"},
    "password_changed": {"zh": "修改密码", "en": "Password changed"},
    "password_reset": {"zh": "重置密码", "en": "Password reset"},
    "account_created": {"zh": "创建账号", "en": "Account created"},
    "account_changed": {"zh": "更改角色/镇街", "en": "Role or township changed"},
    "account_disabled": {"zh": "停用账号", "en": "Account disabled"},
    "account_enabled": {"zh": "启用账号", "en": "Account enabled"},
    "root_cause_changed": {"zh": "修改根源分类", "en": "Root causes changed"},
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
    "hazmat": {"zh": "危货运输", "en": "Hazardous goods"},  # the vehicle rules: 交通运输局 assists
    "public_safety": {"zh": "公共安全", "en": "Public safety"},
    "hotline": {"zh": "民生诉求", "en": "Citizen hotline"},
    "device_health": {"zh": "设备运维", "en": "Device health"},
    "city_management": {"zh": "城市管理", "en": "City management"},  # 市容环境, 市政设施: a grid member's 巡查上报
}

LEVEL_COLOR: dict[int, str] = {1: "#d7191c", 2: "#fd8d3c", 3: "#fee08b", 4: "#2b83ba"}


# UN classes of dangerous goods (GB 6944《危险货物分类和品名编号》), a hazmat vehicle's cargo class.
CARGO_CLASS: dict[int, dict[Lang, str]] = {
    1: {"zh": "第1类 爆炸品", "en": "Class 1 explosives"},
    2: {"zh": "第2类 气体", "en": "Class 2 gases"},
    3: {"zh": "第3类 易燃液体", "en": "Class 3 flammable liquids"},
    4: {"zh": "第4类 易燃固体", "en": "Class 4 flammable solids"},
    5: {"zh": "第5类 氧化性物质", "en": "Class 5 oxidizers"},
    6: {"zh": "第6类 毒性物质", "en": "Class 6 toxic substances"},
    7: {"zh": "第7类 放射性物质", "en": "Class 7 radioactive material"},
    8: {"zh": "第8类 腐蚀性物质", "en": "Class 8 corrosives"},
    9: {"zh": "第9类 杂项危险物质", "en": "Class 9 miscellaneous"},
}


def cargo_label(cargo_class: int, lang: Lang) -> str:
    return CARGO_CLASS.get(cargo_class, {}).get(lang, str(cargo_class))



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
    Refusal.NOT_YOUR_DISTRICT: {"zh": "该事件不属于本区县，无权处理",
                                "en": "This incident does not belong to your district."},
    Refusal.OUTSIDE_DISTRICT: {"zh": "只能派往本区县的镇街；跨区县转派请报市指挥中心",
                               "en": "Only townships of your district; a transfer to another district goes"
                                     " through the city command center."},
    Refusal.NOT_ASSISTING: {"zh": "本单位不是该事件的协办单位，无权执行协办操作",
                            "en": "Your unit does not assist this incident."},
    Refusal.PART_STATE: {"zh": "协办任务状态已变化（须先协办签收，反馈后不能再报），请刷新",
                         "en": "Your assisting part has moved on (sign for it first; nothing after its feedback)."
                               " Please refresh."},
    Refusal.NOT_YOUR_GRID: {"zh": "该位置或事件不在您负责的网格内，无权处理",
                            "en": "This place or incident is not in one of your grids."},
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
    "auth.must_change_password": {"zh": "请先修改密码（管理员为您设置了新密码）",
                                  "en": "Change your password first (an admin set a new one for you)"},
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
    "map.reconnecting": {"zh": "连接中断，正在重连…", "en": "Connection lost, reconnecting…"},
    "map.illustrative": {"zh": "镇街边界为示意", "en": "Township boundaries are illustrative"},
    "warning.cleared": {"zh": "已解除", "en": "cleared"},
    "township.title": {"zh": "镇街工作台", "en": "Township desk"},
    "township.empty": {"zh": "本镇街暂无待办事件", "en": "No open incidents for your township"},
    "township.assisting": {"zh": "协办", "en": "Assisting"},
    "township.feedback": {"zh": "处置反馈", "en": "Report feedback"},
    "township.return": {"zh": "退单", "en": "Send back"},
    "township.note": {"zh": "处置情况（必填）", "en": "What was done (required)"},
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
    # -- a 12345 ticket's reporter: whole for the command center and the township handling it, else masked --
    "incident.reporter": {"zh": "诉求人", "en": "Reporter"},
    "incident.reporter_phone": {"zh": "联系电话", "en": "Phone"},
    "incident.privacy": {"zh": "个人信息", "en": "Personal data"},
    "incident.masked": {"zh": "已脱敏：仅指挥中心和承办镇街可见完整信息",
                        "en": "Masked: only the command center and the township handling it see it whole"},
    "incident.unmasked": {"zh": "完整显示，供回访联系；本次查看已记录",
                          "en": "Shown whole to call the reporter back; this view is recorded"},
    "incident.export": {"zh": "导出工单（Excel）", "en": "Export (Excel)"},
    "incident.sheet_facts": {"zh": "事件信息", "en": "Incident"},
    "export.field": {"zh": "项目", "en": "Field"},
    "export.value": {"zh": "内容", "en": "Value"},
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
    "near.badge_help": {"zh": "事发位置靠近镇街边界，或边界调整后已改属其他镇街（见“属地变更”记录），可能属于相邻镇街："
                              "请核实属地，无误后点“确认属地”，有误请转派",
                        "en": "The point is close to a township border, or a new boundary version put it in another"
                              " township (see the log's area re-tag), and may belong to the neighbour: check,"
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
    # -- accounts: one's own password (/account); on the admin page, managing accounts, lock-outs, the login log --
    "nav.account": {"zh": "修改密码", "en": "Password"},
    "account.title": {"zh": "修改密码", "en": "Change your password"},
    "account.current": {"zh": "当前密码", "en": "Current password"},
    "account.new": {"zh": "新密码", "en": "New password"},
    "account.new2": {"zh": "再次输入新密码", "en": "Repeat the new password"},
    "account.rules": {"zh": "至少 8 位，不能包含用户名，不能使用演示密码",
                      "en": "At least 8 characters, not containing your user name, not a demo password"},
    "account.submit": {"zh": "修改密码", "en": "Change password"},
    "account.changed": {"zh": "密码已修改", "en": "Your password is changed"},
    "account.must_change": {"zh": "管理员为您设置了密码：请先改为只有您自己知道的新密码",
                            "en": "An administrator set your password: choose a new one that only you know"},
    "account.continue": {"zh": "继续", "en": "Continue"},
    "err.current_wrong": {"zh": "当前密码不正确", "en": "The current password is wrong"},
    "err.password_username": {"zh": "密码不能包含用户名", "en": "The password must not contain the user name"},
    "err.password_demo": {"zh": "演示密码人人皆知，请换一个", "en": "Demo passwords are public: choose another"},
    "err.password_same": {"zh": "新密码不能与当前密码相同", "en": "The new password must differ from the current one"},
    "admin.manage": {"zh": "管理账号", "en": "Manage an account"},
    "admin.choose_account": {"zh": "选择账号（可输入搜索）", "en": "Choose an account (type to search)"},
    "admin.save": {"zh": "保存角色与镇街", "en": "Save role and township"},
    "admin.reset_password": {"zh": "新密码（用户下次登录须修改）",
                             "en": "New password (changed by its user at next login)"},
    "admin.reset": {"zh": "重置密码", "en": "Reset password"},
    "admin.disable": {"zh": "停用账号", "en": "Disable account"},
    "admin.enable": {"zh": "启用账号", "en": "Enable account"},
    "admin.saved": {"zh": "已保存 {u} 的角色与镇街", "en": "{u}: role and township saved"},
    "admin.reset_done": {"zh": "已重置 {u} 的密码，该用户下次登录须修改密码",
                         "en": "{u}: password reset; they must change it at the next login"},
    "admin.disabled_done": {"zh": "已停用 {u}，其已登录的会话随即结束",
                            "en": "{u} disabled; their open sessions end at once"},
    "admin.enabled_done": {"zh": "已启用 {u}", "en": "{u} enabled"},
    "admin.unchanged": {"zh": "{u} 没有变化", "en": "{u}: nothing changed"},
    "admin.state_of": {"zh": "{u}：{state}", "en": "{u}: {state}"},
    "state.active": {"zh": "正常", "en": "active"},
    "state.disabled": {"zh": "已停用", "en": "disabled"},
    "state.must_change": {"zh": "待修改密码", "en": "must change password"},
    "col.state": {"zh": "状态", "en": "State"},
    "err.choose_account": {"zh": "请选择账号", "en": "Choose an account"},
    "err.account_gone": {"zh": "该账号不存在", "en": "No such account"},
    "err.self_demote": {"zh": "不能更改自己账号的管理员角色，请由另一位管理员操作",
                        "en": "You cannot take the admin role from your own account; another admin can"},
    "err.self_disable": {"zh": "不能停用自己的账号", "en": "You cannot disable your own account"},
    "err.self_reset": {"zh": "请在“修改密码”页修改自己的密码", "en": "Change your own password on the Password page"},
    "err.last_admin": {"zh": "至少须保留一个启用的管理员账号", "en": "At least one enabled admin account must remain"},
    "admin.locks": {"zh": "登录锁定", "en": "Login lock-outs"},
    "admin.no_locks": {"zh": "当前没有被锁定的账号或地址", "en": "No account or address is locked out"},
    "admin.choose_lock": {"zh": "选择要解锁的账号或地址", "en": "Choose what to unlock"},
    "admin.unlock": {"zh": "解锁", "en": "Unlock"},
    "admin.unlocked": {"zh": "已解锁 {who}", "en": "{who} unlocked"},
    "admin.not_locked": {"zh": "{who} 当前未被锁定", "en": "{who} is not locked out (any more)"},
    "err.choose_lock": {"zh": "请选择要解锁的账号或地址", "en": "Choose an account or address to unlock"},
    "lock.account": {"zh": "账号", "en": "Account"},
    "lock.address": {"zh": "客户端地址", "en": "Client address"},
    "lock.option": {"zh": "{who}（锁定至 {until}）", "en": "{who} (until {until})"},
    "col.locked": {"zh": "对象", "en": "Locked"},
    "col.failures": {"zh": "失败次数", "en": "Failures"},
    "col.until": {"zh": "锁定至", "en": "Locked until"},
    "admin.audit": {"zh": "登录与账号日志", "en": "Login and account log"},
    "admin.filter_user": {"zh": "用户名（完整）", "en": "User name (whole)"},
    "admin.filter_event": {"zh": "事件", "en": "Event"},
    "admin.all_events": {"zh": "全部事件", "en": "All events"},
    "admin.audit_empty": {"zh": "没有符合条件的记录", "en": "No matching rows"},
    "err.event": {"zh": "所选事件无效", "en": "Unknown event"},
    "col.event": {"zh": "事件", "en": "Event"},
    "col.address": {"zh": "地址", "en": "Address"},
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


def auth_event_label(event: str, lang: Lang) -> str:
    return AUTH_EVENT.get(event, {}).get(lang, event)


def category_label(category: str, lang: Lang) -> str:
    return CATEGORY.get(category, {}).get(lang, category)


# 12345 kinds of complaint (a ticket's title, from the hotline system: shown as sent where not listed here).
COMPLAINT: dict[str, dict[Lang, str]] = {
    "噪音扰民": {"zh": "噪音扰民", "en": "Noise"}, "占道经营": {"zh": "占道经营", "en": "Street vending"},
    "垃圾清运": {"zh": "垃圾清运", "en": "Rubbish collection"},
    "路灯不亮": {"zh": "路灯不亮", "en": "Street light out"},
    "积水": {"zh": "积水", "en": "Standing water"}, "违章停车": {"zh": "违章停车", "en": "Illegal parking"},
    "井盖缺失": {"zh": "井盖缺失", "en": "Missing manhole cover"},
    "油烟扰民": {"zh": "油烟扰民", "en": "Cooking fumes"},
}


def complaint_label(complaint: str, lang: Lang) -> str:
    return COMPLAINT.get(complaint, {}).get(lang, complaint)


def level_label(level: int, lang: Lang) -> str:
    return LEVEL.get(level, {"zh": f"{level}级", "en": f"Level {level}"})[lang]


def refusal_message(refusal: Refusal, action: Action, lang: Lang) -> str:
    specific = REFUSAL_BY_ACTION.get((refusal, action))
    return (specific or REFUSAL[refusal])[lang]

"""Chinese (default) and English words of the reports and of their download controls.

Labels of codes (departments, device types, dead-letter reasons) are the dashboard's
(``i18n.texts``), read, not copied: a report and the page never name a thing twice.
"""

from __future__ import annotations

from i18n.labels import Lang

TEXTS: dict[str, dict[Lang, str]] = {
    "city": {"zh": "郴州市", "en": "Chenzhou"},
    "q.title": {"zh": "{city}一网统管 数据质量月报 {month}",
                "en": "{city} City Operations: Data-Quality Report, {month}"},
    "q.filename": {"zh": "数据质量月报_{month}.docx", "en": "data-quality-report_{month}.docx"},
    "q.period": {"zh": "统计周期：{start} 至 {end}（北京时间）", "en": "Period: {start} to {end} (Beijing time)"},
    "q.period_running": {"zh": "统计周期：{start} 至 {end}（北京时间，本月尚未结束）",
                         "en": "Period: {start} to {end} (Beijing time; the month is not over)"},
    "q.generated": {"zh": "生成时间：{at}", "en": "Generated: {at}"},
    # -- 1 overview --
    "q.h.summary": {"zh": "一、总体情况", "en": "1. Overview"},
    "q.summary": {
        "zh": "{month}，全市接入设备与部门系统共接收消息 {received} 条{received_change}，入库数据 {stored} 行"
              "{stored_change}；拒收 {rejected} 条，拒收率 {reject_rate}{reject_change}；迟到数据 {late} 行，"
              "迟到率 {late_rate}{late_change}；重复数据 {duplicates} 行，已自动去重、未重复入库。"
              "{when}，登记设备 {devices} 台，在线 {online} 台，在线率 {online_rate}{online_change}。",
        "en": "In {month} the city's devices and department systems sent {received} messages{received_change} and "
              "{stored} rows were stored{stored_change}. {rejected} messages were rejected, a reject rate of "
              "{reject_rate}{reject_change}; {late} rows arrived late, a late rate of {late_rate}{late_change}; "
              "{duplicates} duplicate rows were recognised and not stored twice. {when}, {online} of {devices} "
              "registered devices were online, an online rate of {online_rate}{online_change}.",
    },
    "q.change": {"zh": "（环比 {change}）", "en": " ({change} on the previous month)"},
    "q.when_end": {"zh": "截至月末", "en": "At the end of the month"},
    "q.when_at": {"zh": "截至 {at}", "en": "At {at}"},
    "q.no_previous": {"zh": "上月无接收数据，消息类指标不作环比。",
                      "en": "The previous month received nothing: message figures are not compared."},
    "q.col.measure": {"zh": "指标", "en": "Measure"},
    "q.col.this": {"zh": "本月", "en": "This month"},
    "q.col.previous": {"zh": "上月", "en": "Previous month"},
    "q.col.change": {"zh": "环比", "en": "Change"},
    "q.kpi.received": {"zh": "接收消息（条）", "en": "Messages received"},
    "q.kpi.stored": {"zh": "入库数据（行）", "en": "Rows stored"},
    "q.kpi.rejected": {"zh": "拒收消息（条）", "en": "Messages rejected"},
    "q.kpi.reject_rate": {"zh": "拒收率", "en": "Reject rate"},
    "q.kpi.late": {"zh": "迟到数据（行）", "en": "Late rows"},
    "q.kpi.late_rate": {"zh": "迟到率", "en": "Late rate"},
    "q.kpi.duplicates": {"zh": "重复数据（行）", "en": "Duplicate rows"},
    "q.kpi.devices": {"zh": "登记设备（台）", "en": "Registered devices"},
    "q.kpi.online_rate": {"zh": "设备在线率（期末）", "en": "Devices online (end of period)"},
    "q.chart.caption": {"zh": "图 1  每日接收与拒收消息（条）",
                        "en": "Figure 1. Messages received and rejected per day"},
    "q.chart.received": {"zh": "接收（条）", "en": "Received"},
    "q.chart.rejected": {"zh": "拒收（条）", "en": "Rejected"},
    "q.chart.x": {"zh": "日期", "en": "Day of month"},
    # -- 2 sources --
    "q.h.sources": {"zh": "二、分来源统计", "en": "2. By source"},
    "q.col.source": {"zh": "来源", "en": "Source"},
    "q.col.kind": {"zh": "类别", "en": "Kind"},
    "q.col.received": {"zh": "接收（条）", "en": "Received"},
    "q.col.stored": {"zh": "入库（行）", "en": "Stored"},
    "q.col.duplicates": {"zh": "重复（行）", "en": "Duplicates"},
    "q.col.rejected": {"zh": "拒收（条）", "en": "Rejected"},
    "q.col.reject_rate": {"zh": "拒收率", "en": "Reject rate"},
    "q.col.late": {"zh": "迟到（行）", "en": "Late"},
    "q.col.late_rate": {"zh": "迟到率", "en": "Late rate"},
    "q.kind.telemetry": {"zh": "设备数据", "en": "Telemetry"},
    "q.kind.event": {"zh": "部门事件", "en": "Events"},
    "q.kind.status": {"zh": "设备状态", "en": "Status"},
    "q.kind.bad_topic": {"zh": "主题错误", "en": "Bad topic"},
    "q.source.status": {"zh": "设备在线状态消息", "en": "Device status messages"},
    "q.source.bad_topic": {"zh": "主题无法识别的消息", "en": "Messages with an unreadable topic"},
    "q.no_sources": {"zh": "本月没有接收到任何消息。", "en": "Nothing was received this month."},
    # -- 3 reasons --
    "q.h.reasons": {"zh": "三、拒收原因", "en": "3. Why messages were rejected"},
    "q.col.reason": {"zh": "原因", "en": "Reason"},
    "q.col.code": {"zh": "代码", "en": "Code"},
    "q.col.count": {"zh": "条数", "en": "Messages"},
    "q.col.share": {"zh": "占比", "en": "Share"},
    "q.no_rejects": {"zh": "本月无拒收消息。", "en": "No message was rejected this month."},
    # -- 4 devices --
    "q.h.devices": {"zh": "四、报送完整率最低的设备（前 {n} 台）",
                    "en": "4. Devices that missed most readings (worst {n})"},
    "q.devices_intro": {
        "zh": "本月全部设备应报数据 {expected} 条，实报 {received} 条，报送完整率 {rate}。"
              "下表按完整率从低到高列出缺报最多的设备。",
        "en": "All devices together were expected to send {expected} readings this month and sent {received}: "
              "{rate} complete. The devices below missed the largest share of theirs.",
    },
    "q.col.device": {"zh": "设备编号", "en": "Device"},
    "q.col.name": {"zh": "名称", "en": "Name"},
    "q.col.device_type": {"zh": "类型", "en": "Type"},
    "q.col.township": {"zh": "所属镇街", "en": "Township"},
    "q.col.expected": {"zh": "应报（条）", "en": "Expected"},
    "q.col.reports": {"zh": "实报（条）", "en": "Received"},
    "q.col.missing": {"zh": "缺报（条）", "en": "Missing"},
    "q.col.completeness": {"zh": "完整率", "en": "Complete"},
    "q.col.silent_hours": {"zh": "无数据小时", "en": "Silent hours"},
    "q.no_missing": {"zh": "本月所有设备均按周期报送，无缺报。", "en": "Every device sent every expected reading."},
    "q.no_devices": {"zh": "本月无登记设备。", "en": "No device was registered this month."},
    # -- 5 dead letters --
    "q.h.dead": {"zh": "五、死信示例", "en": "5. Dead-letter examples"},
    "q.dead_intro": {"zh": "每种拒收原因本月最新的一条死信，原文完整保存在死信表中，供数据源单位排查。",
                     "en": "The newest dead letter of each reason this month; every one is kept whole in the "
                           "dead-letter table for the sending unit to investigate."},
    "q.col.time": {"zh": "时间", "en": "Time"},
    "q.col.topic": {"zh": "主题", "en": "Topic"},
    "q.col.detail": {"zh": "说明", "en": "Detail"},
    "q.col.payload": {"zh": "报文开头", "en": "Payload (start)"},
    "q.no_dead": {"zh": "本月无死信。", "en": "No dead letters this month."},
    # -- notes --
    "q.h.notes": {"zh": "说明", "en": "Notes"},
    "q.note.units": {"zh": "接收、拒收按 MQTT 消息计；入库、重复、迟到按数据行计（一条消息可携带多条读数）。",
                     "en": "Received and rejected count MQTT messages; stored, duplicates and late count rows "
                           "(one message may carry several readings)."},
    "q.note.late": {"zh": "迟到：数据自带时间早于入库时间 {minutes} 分钟以上；迟到数据照常入库。",
                    "en": "Late: the row's own time is more than {minutes} minutes before it was stored; late rows "
                          "are stored all the same."},
    "q.note.online": {"zh": "在线：最近一次上报在该设备上报周期的 {factor} 倍时间之内。",
                      "en": "Online: the device's latest reading is younger than {factor} × its reporting interval."},
    "q.note.reporting": {
        "zh": "应报条数 = 本月登记时长 ÷ 上报周期；实报按小时汇总中该设备各指标的最大条数计；"
              "无数据小时只对每小时应报 3 条以上的设备统计。",
        "en": "Expected readings = time registered this month ÷ reporting interval; received = per hour, the "
              "largest count among the device's metrics; silent hours only for devices expected thrice an hour "
              "or more.",
    },
    "q.note.tz": {"zh": "日期和时间均为北京时间（Asia/Shanghai）。",
                  "en": "Dates and times are Beijing time (Asia/Shanghai)."},
    # -- the 数据质量 page's download --
    "page.report": {"zh": "数据质量月报", "en": "Monthly data-quality report"},
    "page.month": {"zh": "月份", "en": "Month"},
    "page.this_month": {"zh": "{month}（本月，截至目前）", "en": "{month} (this month, so far)"},
    "page.last_month": {"zh": "{month}（上月）", "en": "{month} (last month)"},
    "page.download": {"zh": "下载月报（Word）", "en": "Download report (Word)"},
    "page.bad_month": {"zh": "请选择近 12 个月内的月份", "en": "Choose a month within the last 12"},
}


def rt(key: str, lang: Lang, **fmt: object) -> str:
    """The report text for ``key``; a missing key raises, so a typo fails a test instead of printing a key."""
    text = TEXTS[key][lang]
    return text.format(**fmt) if fmt else text

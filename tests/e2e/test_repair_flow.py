"""The issue's "done when" for repair requests: a customer submits the public form with two photos and
a video; the agent of the repair team finds the ticket and, on its page, sees the photos and plays
the video."""

import io
import re
import uuid
from pathlib import Path

from PIL import Image
from playwright.sync_api import expect

from tests.e2e.conftest import screenshot, signed_in

VIDEO = Path(__file__).resolve().parents[2] / "src/kefu/channels/tests/fixtures/repair.mp4"


def photo(color: str) -> dict:
    buf = io.BytesIO()
    Image.new("RGB", (640, 480), color).save(buf, "JPEG")
    return {"name": f"{color}.jpg", "mimeType": "image/jpeg", "buffer": buf.getvalue()}


def test_repair_request_with_photos_and_video_reaches_the_agent(page, browser, server):
    # given a customer on the public repair form (no sign-in)
    page.goto("/service/repair")
    phone = f"139{uuid.uuid4().int % 10**8:08d}"
    page.locator("#id_phone").fill(phone)
    page.locator("#id_name").fill("孙丽")
    page.locator("#id_product_model").fill("RO-600")
    page.locator("#id_purchase_channel").select_option("jd")
    page.locator("#id_address").fill("上海市浦东新区张江路 100 号")
    marker = uuid.uuid4().hex[:8]
    page.locator("#id_description").fill(f"净水器漏水，滤芯接口处一直滴水 {marker}")
    page.locator("#id_photos").set_input_files([photo("red"), photo("blue")])
    page.locator("#id_videos").set_input_files(str(VIDEO))

    # when they submit it
    page.get_by_role("button", name=re.compile("提交")).click()

    # then they get a tracking number
    number = page.get_by_test_id("tracking-number")
    expect(number).to_have_text(re.compile(r"^T\d{13,}$"))
    tracking = number.inner_text()
    screenshot(page, "repair-done")

    # when agent1 (hotline team, where the demo sends repair requests) searches for it
    agent = browser.new_context(base_url=server, locale="zh-CN", viewport={"width": 1400, "height": 900})
    agent_page = agent.new_page()
    agent_page.set_default_timeout(10_000)
    signed_in(agent_page, "agent1", next_url=f"/tickets/?view=all&q={tracking}")
    agent_page.locator("#kf-inbox-list a[data-kf-open]").first.click()

    # then the repair ticket shows the two photos and a video that plays
    expect(agent_page.get_by_test_id("ticket-number")).to_have_text(tracking)
    timeline = agent_page.locator("#kf-timeline")
    expect(timeline.locator("img.kf-attachment-img")).to_have_count(2)
    video = timeline.locator("video")
    expect(video).to_have_count(1)
    duration = video.evaluate(
        """v => new Promise((resolve, reject) => {
            v.muted = true;
            const done = () => resolve(v.duration);
            if (v.readyState >= 1) { v.play().then(() => done(), reject); return; }
            v.addEventListener('loadedmetadata', () => v.play().then(() => done(), reject), {once: true});
            const fail = () => reject(new Error('video error ' + (v.error && v.error.code)));
            v.addEventListener('error', fail, {once: true});
        })"""
    )
    assert duration > 1
    agent_page.wait_for_function("v => v.currentTime > 0", arg=video.element_handle())
    screenshot(agent_page, "repair-ticket")
    agent.close()


def test_customer_follows_the_request_in_the_portal_and_answers_the_agent(page, browser, server):
    # given a repair request the customer submitted, and agent1's public question on it
    page.goto("/service/repair")
    phone = f"137{uuid.uuid4().int % 10**8:08d}"
    page.locator("#id_phone").fill(phone)
    page.locator("#id_name").fill("钱进")
    page.locator("#id_product_model").fill("AC-35")
    page.locator("#id_purchase_channel").select_option("tmall")
    page.locator("#id_address").fill("杭州市西湖区文三路 1 号")
    page.locator("#id_description").fill("空调不制冷")
    page.get_by_role("button", name=re.compile("提交")).click()
    tracking = page.get_by_test_id("tracking-number").inner_text()

    agent = browser.new_context(base_url=server, locale="zh-CN", viewport={"width": 1400, "height": 900})
    agent_page = agent.new_page()
    agent_page.set_default_timeout(10_000)
    signed_in(agent_page, "agent1", next_url=f"/tickets/?view=all&q={tracking}")
    agent_page.locator("#kf-inbox-list a[data-kf-open]").first.click()
    agent_page.locator("#kf-composer-body").fill("请问是什么时候购买的？方便拍一张铭牌的照片吗？")
    agent_page.locator("#kf-composer button[type=submit]").click()
    expect(agent_page.locator("#kf-timeline > li[data-kind=reply]")).to_contain_text("铭牌")
    agent_page.locator("#kf-status-to").select_option("pending")
    agent_page.locator("#kf-field-status button[type=submit]").click()
    expect(agent_page.get_by_test_id("ticket-status")).to_have_text(re.compile("客户"))

    # when the customer signs in to the portal with the tracking number and phone
    page.goto("/portal/")
    page.locator("#portal-number").fill(tracking)
    page.locator("#portal-phone").fill(phone)
    page.get_by_role("button", name=re.compile("查看")).click()
    # the request's page, or the list of the customer's requests: wait for whichever comes
    status, link = page.get_by_test_id("portal-status"), page.get_by_role("link", name=re.compile(tracking))
    status.or_(link).first.wait_for()
    if status.count() == 0:  # the list of requests: open this one
        link.click()

    # then they see the status in their words and the agent's question
    expect(page.get_by_test_id("portal-status")).to_have_text("等待您的回复")
    expect(page.get_by_test_id("portal-messages")).to_contain_text("铭牌")

    # when they answer with a photo of the nameplate
    page.locator("#portal-body").fill("去年双十一买的，铭牌照片在附件。")
    page.locator("#portal-photos").set_input_files([photo("green")])
    page.get_by_role("button", name="发送").click()

    # then the answer is in the conversation, the request is being handled again
    expect(page.get_by_test_id("portal-messages")).to_contain_text("双十一")
    expect(page.get_by_test_id("portal-status")).to_have_text("处理中")
    screenshot(page, "portal-ticket")
    # and the agent sees the customer's message with the photo on the ticket
    agent_page.reload()
    message = agent_page.locator("#kf-timeline > li[data-kind=customer]", has_text="双十一")
    expect(message.locator("img.kf-attachment-img")).to_have_count(1)
    agent.close()

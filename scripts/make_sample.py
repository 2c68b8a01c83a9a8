"""Build the shipped sample data in ``data/sample/`` for the fictional super-app "Sepehr".

Takes small samples of the shared datasets whose licences allow redistribution
(Banking77 CC BY 4.0, Bitext CDLA-Sharing 1.0, the Iranian bank-app reviews MIT) and
generates the rest: Persian and mixed Persian/English tickets, survey answers and
social posts from templates, customers, transactions and churn. Every feedback row
carries a true theme and sentiment (``truth.csv``), and churn is generated so that the
themes in :data:`CHURN_EFFECTS` truly raise it, so the pipeline's ranking can be checked.

Deterministic: the same seed, datasets and library versions give byte-identical files.

Usage::

    python scripts/make_sample.py [--datasets ../shared/datasets] [--out data/sample] [--seed N]
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATASETS = REPO.parent / "shared" / "datasets"
DEFAULT_OUT = REPO / "data" / "sample"

SEED = 20261120
END = datetime(2026, 11, 20, tzinfo=UTC)  # the "today" of the sample; all feedback is before it
FEEDBACK_DAYS = 84  # feedback spans the 12 weeks before END
TRANSACTION_DAYS = 730  # transactions span the 2 years before END
TEHRAN = timezone(timedelta(hours=3, minutes=30))  # Iran has had no DST since 2022

# --- the planted story ------------------------------------------------------------------

# A bad app release in late October: app_bugs mentions spike in the last 4 weeks.
SPIKE_THEME = "app_bugs"
SPIKE_DAYS = 28
SPIKE_SHARE = 0.62  # share of the theme's rows placed in the last SPIKE_DAYS (uniform would be 1/3)

# Churn: P(churn) = base rate of the plan + the sum of the effects of every theme the
# customer raised negatively (capped at MAX_CHURN). These are the true causal uplifts.
BASE_CHURN = {"basic": 0.12, "plus": 0.08, "premium": 0.05}
CHURN_EFFECTS = {"payments_refunds": 0.30, "app_bugs": 0.22, "support": 0.12}
MAX_CHURN = 0.95
# performance has no effect of its own but co-occurs with app_bugs: most customers who
# complain negatively about performance are picked among those who complained about app_bugs,
# so a per-theme (marginal) comparison wrongly credits it with churn.
CONFOUNDED_THEME = "performance"
CONFOUNDED_WITH = "app_bugs"
CONFOUND_SHARE = 0.75

N_CUSTOMERS = 2000
CRM_SHARE = 0.30  # customers with a CRM clv; the rest get transactions
PLANS = {"basic": 0.60, "plus": 0.28, "premium": 0.12}
REGIONS = {
    "Tehran": 0.38,
    "Isfahan": 0.10,
    "Mashhad": 0.10,
    "Shiraz": 0.08,
    "Tabriz": 0.08,
    "Karaj": 0.07,
    "Ahvaz": 0.05,
    "Qom": 0.05,
    "Rasht": 0.05,
    "Kerman": 0.04,
}
CRM_CLV_MEAN = {"basic": 180.0, "plus": 450.0, "premium": 1300.0}
# BG/NBD-like purchasing (per month) and Gamma-Gamma-like spend, by plan
PURCHASE_RATE = {"basic": 0.6, "plus": 1.0, "premium": 1.6}  # mean purchases per month
DROPOUT_BETA = (1.0, 14.0)  # P(drop out after a purchase) ~ Beta(a, b)
SPEND_MEAN = {"basic": 18.0, "plus": 32.0, "premium": 75.0}

# rows per generated/borrowed source
N_BANKING77 = 700
N_BITEXT = 340
N_FA_TICKETS = 520
N_MIXED_TICKETS = 130
N_REVIEWS = 900
N_SURVEY = 650
N_SOCIAL = 420
PII_SHARE = 0.07  # generated rows that get a fake email / phone / card / national id / IBAN
LINK_SHARE = {
    "tickets_en": 0.92,
    "tickets_fa": 0.90,
    "reviews": 0.45,
    "survey": 0.97,
    "social": 0.30,
}

THEMES = (
    "delivery",
    "billing_fees",
    "payments_refunds",
    "transfers",
    "card_issues",
    "app_bugs",
    "account_login",
    "support",
    "identity_verification",
    "usability",
    "performance",
    "security_fraud",
    "cancellation",
    "product_quality",
    "loans_installments",
    "notifications",
)
NONE = "none"  # true theme of feedback that fits no theme (praise, small talk)

# Weight of each theme among generated rows.
GENERATED_THEME_WEIGHTS = {
    "payments_refunds": 12,
    "app_bugs": 11,
    "delivery": 9,
    "support": 9,
    "account_login": 8,
    "transfers": 8,
    "performance": 7,
    "card_issues": 6,
    "billing_fees": 6,
    "product_quality": 5,
    "usability": 5,
    "identity_verification": 4,
    "security_fraud": 3,
    "cancellation": 3,
    "loans_installments": 3,
    "notifications": 3,
    NONE: 7,
}

# --- mappings of borrowed labels to taxonomy themes ----------------------------------------

# Banking77 intent -> (theme, sentiment). Intents left out (general product questions) are not sampled.
BANKING77 = {
    "card_arrival": ("delivery", "negative"),
    "card_delivery_estimate": ("delivery", "neutral"),
    "card_payment_fee_charged": ("billing_fees", "negative"),
    "cash_withdrawal_charge": ("billing_fees", "negative"),
    "transfer_fee_charged": ("billing_fees", "negative"),
    "extra_charge_on_statement": ("billing_fees", "negative"),
    "card_payment_wrong_exchange_rate": ("billing_fees", "negative"),
    "wrong_exchange_rate_for_cash_withdrawal": ("billing_fees", "negative"),
    "exchange_charge": ("billing_fees", "neutral"),
    "top_up_by_card_charge": ("billing_fees", "negative"),
    "top_up_by_bank_transfer_charge": ("billing_fees", "neutral"),
    "transaction_charged_twice": ("payments_refunds", "negative"),
    "request_refund": ("payments_refunds", "negative"),
    "Refund_not_showing_up": ("payments_refunds", "negative"),
    "reverted_card_payment?": ("payments_refunds", "negative"),
    "pending_card_payment": ("payments_refunds", "negative"),
    "declined_card_payment": ("card_issues", "negative"),
    "declined_cash_withdrawal": ("card_issues", "negative"),
    "pending_cash_withdrawal": ("card_issues", "negative"),
    "wrong_amount_of_cash_received": ("card_issues", "negative"),
    "card_not_working": ("card_issues", "negative"),
    "pin_blocked": ("card_issues", "negative"),
    "card_swallowed": ("card_issues", "negative"),
    "virtual_card_not_working": ("card_issues", "negative"),
    "contactless_not_working": ("card_issues", "negative"),
    "lost_or_stolen_card": ("card_issues", "negative"),
    "activate_my_card": ("card_issues", "neutral"),
    "change_pin": ("card_issues", "neutral"),
    "getting_spare_card": ("card_issues", "neutral"),
    "card_about_to_expire": ("card_issues", "neutral"),
    "card_payment_not_recognised": ("security_fraud", "negative"),
    "cash_withdrawal_not_recognised": ("security_fraud", "negative"),
    "direct_debit_payment_not_recognised": ("security_fraud", "negative"),
    "compromised_card": ("security_fraud", "negative"),
    "lost_or_stolen_phone": ("security_fraud", "negative"),
    "pending_transfer": ("transfers", "negative"),
    "failed_transfer": ("transfers", "negative"),
    "declined_transfer": ("transfers", "negative"),
    "transfer_not_received_by_recipient": ("transfers", "negative"),
    "balance_not_updated_after_bank_transfer": ("transfers", "negative"),
    "balance_not_updated_after_cheque_or_cash_deposit": ("transfers", "negative"),
    "pending_top_up": ("transfers", "negative"),
    "top_up_failed": ("transfers", "negative"),
    "top_up_reverted": ("transfers", "negative"),
    "cancel_transfer": ("transfers", "neutral"),
    "transfer_timing": ("transfers", "neutral"),
    "beneficiary_not_allowed": ("transfers", "negative"),
    "passcode_forgotten": ("account_login", "negative"),
    "edit_personal_details": ("account_login", "neutral"),
    "unable_to_verify_identity": ("identity_verification", "negative"),
    "why_verify_identity": ("identity_verification", "neutral"),
    "verify_my_identity": ("identity_verification", "neutral"),
    "verify_source_of_funds": ("identity_verification", "neutral"),
    "terminate_account": ("cancellation", "neutral"),
}

# Bitext intent -> (theme, sentiment)
BITEXT = {
    "payment_issue": ("payments_refunds", "negative"),
    "get_refund": ("payments_refunds", "negative"),
    "track_refund": ("payments_refunds", "neutral"),
    "check_refund_policy": ("payments_refunds", "neutral"),
    "check_payment_methods": ("payments_refunds", "neutral"),
    "track_order": ("delivery", "neutral"),
    "delivery_period": ("delivery", "neutral"),
    "delivery_options": ("delivery", "neutral"),
    "change_shipping_address": ("delivery", "neutral"),
    "recover_password": ("account_login", "negative"),
    "registration_problems": ("account_login", "negative"),
    "edit_account": ("account_login", "neutral"),
    "contact_human_agent": ("support", "negative"),
    "contact_customer_service": ("support", "neutral"),
    "complaint": ("support", "negative"),
    "delete_account": ("cancellation", "neutral"),
    "cancel_order": ("cancellation", "neutral"),
    "check_cancellation_fee": ("billing_fees", "neutral"),
    "get_invoice": ("billing_fees", "neutral"),
    "check_invoice": ("billing_fees", "neutral"),
}

# Bank-app reviews have no topic label: the first rule whose pattern matches gives the true
# theme (a "silver" label, checked by reading a sample); none matching -> NONE.
REVIEW_THEME_RULES: tuple[tuple[str, str], ...] = (
    ("security_fraud", r"هک|کلاهبردار|دزدید|سرقت|غیر ?مجاز|دولوپر|امنیت"),
    ("payments_refunds", r"برگشت نخورده|برنگشت|پول برگشت|کسر شد.*فعال نشد|دوبار|دو بار کم"),
    ("identity_verification", r"احراز|کارت ملی|هویت|مدارک|سلفی"),
    (
        "account_login",
        r"رمز|وارد نمی ?شه|وارد نمیشم|وارد شم|ورود|ثبت ?نام|کد تایید|کد نمیاد|نام کاربری|اثر انگشت|otp",
    ),
    ("loans_installments", r"وام|قسط|اقساط|تسهیلات|چک|ضامن|سفته"),
    ("transfers", r"انتقال|کارت ?به ?کارت|کارت ب کارت|پایا|ساتنا|شبا|واریز|جابجایی پول|جابه جای"),
    ("billing_fees", r"کارمزد|هزینه|پول میگیر|پول می گیر|پول میخواد|گران|گرون|تعرفه"),
    ("notifications", r"پیامک|اس ام اس|پیام واریز|پیام برداشت|اعلان|رسید|گردش حساب"),
    (
        "app_bugs",
        r"باز نمی ?شه|بالا نمیاد|بالا نمی آید|خطا|ارور|باگ|کرش|هنگ|خراب|کار نمی ?کنه|بروز ?رسانی|به روز ?رسانی|آپدیت|اپدیت|نسخه|بعدا تلاش",
    ),
    ("performance", r"کند|سرعت|لود|طول میکشه|طولش|سنگین"),
    ("card_issues", r"کارت|عابر|خودپرداز|مسدود"),
    ("support", r"پشتیبانی|جواب نمید|پاسخگو|شعبه|تماس گرفتم|پیگیری نمی"),
    ("usability", r"رابط کاربری|طراحی|محیط برنامه|کاش|اضافه کنید|اضافه بشه|سخت|گزینه|امکان"),
    ("cancellation", r"بستن حساب|حذف کنم|پاک کردم|حساب باز نکنید"),
)
BANK_NAMES = (
    r"ملت|تجارت|صادرات|ملی ایران|ملی|رسالت|سامان|پارسیان|رفاه|دی|اقتصاد نوین|بلو|سرمایه|پاسارگاد"
)

# --- text templates -------------------------------------------------------------------------
# Persian: (negative, neutral, positive) bodies per theme. {amount}, {days}, {order} are slots.
FA_OPENERS = (
    "سلام",
    "با سلام و احترام",
    "درود",
    "سلام وقت بخیر",
    "",
    "",
    "سلام خسته نباشید",
    "ببخشید",
)
FA_CLOSERS_NEG = (
    "لطفا رسیدگی کنید",
    "واقعا افتضاحه",
    "تا کی باید صبر کنم؟",
    "خیلی بده",
    "",
    "",
    "لطفا زودتر پیگیری کنید",
    "دیگه خسته شدم",
    "این چه وضعشه؟",
    "!!!",
)
FA_CLOSERS_OTHER = ("ممنون", "با تشکر", "", "", "مرسی", "سپاس")
FA_AMOUNTS = (
    "۲۵۰ هزار تومن",
    "۱ میلیون و ۲۰۰ تومن",
    "480,000 تومان",
    "۳ میلیون ریال",
    "۹۵ هزار تومان",
    "2 میلیون تومن",
)
FA_DAYS = ("۳ روزه", "یه هفته‌ست", "دو هفته‌ست", "از دیروز", "۵ روزه", "۱۰ روزه")

FA = {
    "delivery": (
        (
            "سفارشم {days} هنوز نرسیده و کد رهگیری هم کار نمیکنه",
            "پیک نیومد و سفارش من رو لغو هم نکردن",
            "کارتم {days} ثبت شده ولی هنوز نرسیده",
            "سفارش {order} دیر رسید و بسته‌بندی هم باز شده بود",
            "زمان تحویل رو زدید امروز ولی کسی نیومد",
            "مامور پست گفته آدرس پیدا نشد در حالی که آدرس تحویل درسته",
            "هزینه ارسال گرفتید ولی سفارشم {days} تو راهه",
        ),
        (
            "سفارش {order} کی ارسال میشه؟",
            "برای ارسال کارت به شهرستان چند روز زمان لازمه؟",
            "چطور آدرس تحویل رو عوض کنم؟",
        ),
        ("پیک خیلی سریع رسید ممنون", "سفارشم به موقع رسید، عالی بود", "ارسال سریع و بسته‌بندی خوب"),
    ),
    "billing_fees": (
        (
            "بابت هر کارت به کارت کارمزد جدا کم میکنید خیلی زیاده",
            "هزینه اشتراک پلاس رو دو برابر کردید بدون اطلاع",
            "{amount} بابت هزینه پیامک از حسابم کسر شده",
            "این همه کارمزد برای چیه؟",
            "قیمت‌ها تو فروشگاه از بیرون گرونتره",
            "هزینه نگهداری حساب رو بی خبر کم کردید",
        ),
        (
            "کارمزد انتقال به حساب بانک دیگه چقدره؟",
            "فاکتور خرید ماه قبل رو از کجا ببینم؟",
            "هزینه اشتراک پریمیوم ماهانه چنده؟",
        ),
        ("کارمزدهاتون از بقیه کمتره ممنون", "قیمت اشتراک منصفانه‌ست"),
    ),
    "payments_refunds": (
        (
            "پرداخت ناموفق بود ولی {amount} از حسابم کم شد و هنوز برنگشته",
            "سفارش {order} رو لغو کردم {days} پولم برنگشته",
            "دوبار از کارتم کسر شد برای یه خرید",
            "تراکنش ناموفق شد ولی پول رفت، استرداد وجه کی انجام میشه؟",
            "از کیف پول پرداخت کردم خطا داد و پولم برنگشت",
            "{days} منتظر بازگشت وجه هستم، خبری نیست",
            "درگاه پرداخت وسط خرید قطع شد و مبلغ کسر شد",
        ),
        (
            "بازگشت وجه معمولا چند روز طول میکشه؟",
            "میشه با کیف پول قسطی پرداخت کرد؟",
            "روش‌های پرداخت تو فروشگاه چیه؟",
        ),
        ("پولم سریع برگشت ممنون از پیگیری", "استرداد وجه خیلی سریع انجام شد"),
    ),
    "transfers": (
        (
            "کارت به کارت زدم {amount} از حسابم کم شده ولی به مقصد نرسیده",
            "انتقال پایا {days} در حال انتظاره",
            "واریز کردم ولی به حساب ننشسته",
            "شارژ کیف پول انجام نشد ولی موجودی کم شده",
            "انتقال ساتنا برگشت خورد و دلیلش رو نمیگید",
            "سقف انتقال رو بی دلیل کم کردید",
        ),
        (
            "سقف کارت به کارت روزانه چقدره؟",
            "انتقال شبا چقدر طول میکشه؟",
            "چطور شماره شبا خودم رو پیدا کنم؟",
        ),
        ("کارت به کارت خیلی سریع و راحته", "انتقال وجه عالی کار میکنه"),
    ),
    "card_issues": (
        (
            "کارتم تو فروشگاه رد شد در حالی که موجودی دارم",
            "عابر بانک کارتم رو گرفت و پس نداد",
            "رمز اول کارت رو سه بار اشتباه زدم کارت مسدود شد",
            "کارت مجازی برای خرید اینترنتی کار نمیکنه",
            "کارتم کار نمی‌کنه و هیچ خطایی هم نمیده",
            "کارت گم شده رو مسدود کردم ولی المثنی صادر نمیشه",
        ),
        (
            "چطور کارت فیزیکی سفارش بدم؟",
            "تاریخ انقضا کارتم نزدیکه، تمدید کارت چطوریه؟",
            "رمز دوم کارت رو از کجا بگیرم؟",
        ),
        ("کارت جدیدم خیلی خوشگله ممنون", "کارت مجازی خیلی به دردم خورد"),
    ),
    "app_bugs": (
        (
            "بعد از آپدیت جدید اپ باز نمیشه",
            "برنامه مدام کرش میکنه",
            "بعد از بروزرسانی همش خطا میده",
            "موقع پرداخت ارور میده و از برنامه خارج میشه",
            "نسخه جدید کلا خرابه هیچی کار نمیکنه",
            "اپ بالا نمیاد و میگه بعدا تلاش کنید",
            "صفحه سفید میاد و برنامه هنگ میکنه",
            "از وقتی آپدیت کردم خطای سیستمی میده",
        ),
        ("نسخه جدید کی میاد بازار؟", "برای اندروید ۱۴ آپدیت میدید؟"),
        ("آپدیت جدید مشکلات رو حل کرد ممنون", "دیگه کرش نمیکنه، عالیه"),
    ),
    "account_login": (
        (
            "کد تایید برام نمیاد و نمیتونم وارد شم",
            "رمز پویا دیر میرسه و وقتش تموم میشه",
            "نمی‌تونم وارد شم میگه رمز عبور اشتباهه",
            "فراموشی رمز رو میزنم ولی کد نمیاد",
            "اثر انگشت از کار افتاده و هر بار باید رمز بزنم",
            "ثبت نام تموم نمیشه و دوباره برمیگرده اول",
        ),
        (
            "نام کاربری رو فراموش کردم از کجا پیدا کنم؟",
            "چطور شماره موبایل رو برای کد تایید عوض کنم؟",
            "رمز ورود رو چطور تغییر بدم؟",
        ),
        ("ورود با اثر انگشت خیلی راحته", "رمز یکبار مصرف سریع میاد ممنون"),
    ),
    "support": (
        (
            "{days} تیکت زدم هیچ کسی جواب نمیده",
            "نیم ساعت پشت خط موندم آخرش قطع شد",
            "پشتیبانی اصلا پاسخگو نیست",
            "اپراتور خیلی بی ادب بود و مشکلم رو حل نکرد",
            "هر بار زنگ میزنم یه چیزی میگن و کسی پیگیری نمیکنه",
            "سه بار شکایت ثبت کردم جواب نمیدن",
        ),
        ("شماره تماس پشتیبانی چنده؟", "پشتیبانی آنلاین چه ساعت‌هایی جواب میده؟"),
        ("پشتیبانی خیلی سریع جواب داد ممنون از کارشناس", "کارشناس پشتیبانی خیلی صبور و مودب بود"),
    ),
    "identity_verification": (
        (
            "سه بار احراز هویت کردم باز قبول نکرد",
            "عکس کارت ملی رو آپلود میکنم میگه مدارک نامعتبره",
            "فیلم سلفی رو رد کردن بدون توضیح",
            "کارت ملی جدیدم نیومده با رسید کارت ملی احراز هویت نمیشه",
            "{days} احراز هویتم در حال بررسیه",
        ),
        ("برای احراز هویت چه مدارکی لازمه؟", "احراز هویت چقدر طول میکشه؟"),
        ("احراز هویت ویدیویی خیلی راحت بود", "احراز هویت چند دقیقه بیشتر طول نکشید"),
    ),
    "usability": (
        (
            "رابط کاربری جدید خیلی گیج کننده‌ست",
            "گزینه گردش حساب رو پیدا نمیکنم",
            "طراحی جدید خیلی سخت شده هیچی سر جاش نیست",
            "محیط برنامه شلوغه و فونت خیلی ریزه",
        ),
        (
            "ای کاش حالت شب اضافه کنید",
            "میشه امکان اسکرین شات رو فعال کنید؟",
            "لطفا گزینه تقسیم صورتحساب اضافه بشه",
        ),
        (
            "طراحی جدید خیلی ساده و شیکه",
            "خیلی راحت میشه باهاش کار کرد",
            "محیط برنامه عالی و کاربردیه",
        ),
    ),
    "performance": (
        (
            "برنامه خیلی کند شده",
            "هر صفحه کلی طول میکشه تا لود بشه",
            "سرعت پایینه و هر کاری دو دقیقه زمان میبره",
            "برنامه خیلی سنگینه و گوشی داغ میکنه",
            "موجودی گرفتن خیلی زمان بر شده",
            "لودینگ تموم نمیشه",
        ),
        ("چرا بعضی وقتا کند میشه؟",),
        ("سرعتش خیلی بهتر شده", "خیلی سریع و روانه"),
    ),
    "security_fraud": (
        (
            "یه برداشت غیرمجاز از حسابم شده که من انجام ندادم",
            "پیامک جعلی به اسم شما اومد و لینک فیشینگ داشت",
            "فکر کنم حسابم هک شده",
            "گوشیمو دزدیدن چطور حساب رو قفل کنم؟ کسی جواب نمیده",
            "تراکنش ناشناس {amount} تو گردش حسابم هست",
        ),
        ("برای امنیت بیشتر چه تنظیماتی پیشنهاد میکنید؟", "این لینکی که پیامک شده از طرف شماست؟"),
        ("رمز دو مرحله‌ای حس امنیت میده", "خوبه که تراکنش مشکوک رو سریع مسدود کردید"),
    ),
    "cancellation": (
        (
            "میخوام حسابمو ببندم دیگه استفاده نمیکنم",
            "اشتراک رو لغو کردم ولی باز هزینه کم کردید",
            "با این وضع میرم بانک دیگه",
            "لغو اشتراک تو برنامه نیست چرا؟",
        ),
        ("بستن حساب چطوری انجام میشه؟", "اگر اشتراک رو لغو کنم کارمزد داره؟"),
        ("لغو اشتراک خیلی راحت بود ممنون",),
    ),
    "product_quality": (
        (
            "کالا با عکس فرق داره و جنسش بی کیفیته",
            "گوشی که خریدم شکسته رسید",
            "محصول تقلبی بود اصل نیست",
            "سایز اشتباه فرستادن و مرجوعی هم قبول نمیکنن",
            "کیفیت پایینه بعد دو روز خراب شد",
        ),
        ("گارانتی این کالا چند ماهه؟", "مرجوع کردن کالا چطوریه؟"),
        ("کیفیت کالا عالی بود دقیقا مثل عکس", "جنسش خیلی خوبه ارزش خرید داره"),
    ),
    "loans_installments": (
        (
            "درخواست وام دادم {days} هیچ جوابی نیومده",
            "قسطم رو پرداخت کردم ولی میگه دیرکرد دارید",
            "اعتبارسنجی رد شد بدون هیچ دلیلی",
            "پرداخت اقساط تو برنامه خطا میده",
        ),
        ("سقف وام فوری چقدره؟", "خرید اقساطی تو فروشگاه ضامن میخواد؟"),
        ("وام خیلی سریع واریز شد ممنون", "خرید اقساطی خیلی کمکم کرد"),
    ),
    "notifications": (
        (
            "پیامک واریز و برداشت دیگه نمیاد",
            "روزی ده تا پیامک تبلیغاتی میدید خسته شدم",
            "اعلان‌ها دیر میاد بعد از یک ساعت",
            "رسید تراکنش تو برنامه نمایش داده نمیشه",
        ),
        ("چطور سرویس پیامک رو فعال کنم؟", "گردش حساب رو میشه ایمیل کرد؟"),
        ("اعلان‌ها سریع میاد خیلی خوبه",),
    ),
    NONE: (
        ("بدترین بانکی که دیدم", "خیلی بده", "اصلا راضی نیستم"),
        ("سوال داشتم", "تست", "نظری ندارم"),
        (
            "عالیه ممنون از سپهر",
            "خیلی خوبه راضیم",
            "بهترین سوپراپ ایران",
            "دمتون گرم خیلی عالیه",
            "همه چی خوبه",
        ),
    ),
}

# Mixed Persian/English ("Finglish-ish") tickets: (negative, other) bodies per theme.
MIXED = {
    "app_bugs": (
        "اپ موقع login کرش میکنه",
        "بعد از update اپ باز نمیشه",
        "app همش error میده",
        "version جدید کلا bug داره",
    ),
    "account_login": (
        "OTP نمیاد اصلا",
        "password رو reset کردم باز login نمیشه",
        "کد verification دیر میاد",
    ),
    "payments_refunds": (
        "refund سفارشم هنوز نیومده",
        "payment fail شد ولی پولش کم شد",
        "double charge شدم برای یه order",
    ),
    "transfers": (
        "transfer من از دیروز pending مونده",
        "top up کیف پول fail شد",
        "کارت به کارت pending شده",
    ),
    "delivery": ("delivery خیلی دیر شد", "tracking سفارشم update نمیشه", "courier نیومد"),
    "support": (
        "support اصلا جواب نمیده",
        "ticket زدم هیچ response ندادن",
        "live chat همش offline هست",
    ),
    "card_issues": ("کارتم decline شد تو فروشگاه", "card مجازی کار نمیکنه", "PIN کارت block شد"),
    "billing_fees": (
        "fee انتقال خیلی زیاده",
        "subscription رو گرون کردید",
        "charge اضافه روی statement هست",
    ),
    "performance": ("app خیلی slow شده", "loading خیلی طول میکشه", "همه چی lag داره"),
    "usability": (
        "UI جدید خیلی confusing هست",
        "dark mode اضافه کنید",
        "منوی settings رو پیدا نمیکنم",
    ),
    "identity_verification": ("verification مدارکم reject شد", "KYC من سه روزه pending هست"),
    "security_fraud": ("یه transaction ناشناس دارم", "SMS فیشینگ اومد به اسم شما"),
    "product_quality": ("item شکسته رسید", "quality محصول خیلی پایینه"),
    "cancellation": ("میخوام account رو close کنم", "subscription رو cancel کنید لطفا"),
}

EN = {
    "delivery": (
        (
            "My order {order} still hasn't arrived after {days_en}",
            "The courier never showed up",
            "My card hasn't arrived yet, it's been {days_en}",
            "Package arrived late and the box was open",
            "Tracking number doesn't work, where is my order?",
        ),
        ("How long does card delivery take?", "Can I change my delivery address?"),
        ("Delivery was super fast, thanks", "Order arrived on time, great courier"),
    ),
    "billing_fees": (
        (
            "Why was I charged a fee for a simple transfer?",
            "The new subscription fee is way too expensive",
            "Hidden fees everywhere, not happy",
            "Exchange rate you gave me was terrible",
        ),
        ("What is the monthly fee for premium?", "Where can I download my invoice?"),
        ("Fees are lower than my old bank", "Fair pricing, happy with plus"),
    ),
    "payments_refunds": (
        (
            "Payment failed but I was charged anyway, still no refund after {days_en}",
            "I was double charged for one order",
            "Refund not received after {days_en}",
            "Cancelled order {order} and never got my money back",
            "Wallet payment error and the money is gone",
        ),
        ("How long does a refund take?", "Which payment methods do you accept?"),
        ("Refund came back quickly, thank you", "Got my money back in one day, impressed"),
    ),
    "transfers": (
        (
            "My transfer has been pending for {days_en}",
            "Top up failed but balance was deducted",
            "Transfer not received by the recipient",
            "Bank transfer declined with no reason",
        ),
        ("How long does a transfer to another bank take?", "What is the daily transfer limit?"),
        ("Transfers are instant, love it",),
    ),
    "card_issues": (
        (
            "My card was declined at the supermarket with money in the account",
            "ATM swallowed my card",
            "Card blocked after wrong PIN",
            "Virtual card not working for online shopping",
        ),
        ("How do I activate my new card?", "Can I get a spare card?"),
        ("Love the new card design", "Contactless works perfectly"),
    ),
    "app_bugs": (
        (
            "App keeps crashing since the latest update",
            "The app won't open after the update",
            "Error message every time I try to pay",
            "Blank screen after login, app is broken",
            "Update broke everything, nothing works",
        ),
        ("When is the next app update?",),
        ("New version fixed the crashes, thanks",),
    ),
    "account_login": (
        (
            "Verification code never arrives so I can't log in",
            "Locked out of my account again",
            "Password reset link doesn't work",
            "OTP expires before it arrives",
        ),
        ("How do I change my phone number for login codes?",),
        ("Login with fingerprint is so smooth",),
    ),
    "support": (
        (
            "Waited 40 minutes on hold and nobody answered",
            "Support never replies to my ticket",
            "The agent was rude and unhelpful",
            "Opened three tickets, no response at all",
        ),
        ("What are customer support hours?",),
        ("Support agent solved my problem in minutes, thanks!", "Great customer service today"),
    ),
    "identity_verification": (
        (
            "Identity verification failed three times",
            "You rejected my documents with no explanation",
            "KYC still pending after {days_en}",
        ),
        ("Which documents do I need to verify my identity?",),
        ("Verification took two minutes, very smooth",),
    ),
    "usability": (
        (
            "The new design is confusing, can't find anything",
            "Too many steps to do a simple transfer",
            "Menu layout is a mess",
        ),
        ("Please add dark mode",),
        ("Really easy to use app", "Clean and intuitive interface"),
    ),
    "performance": (
        (
            "The app is so slow lately",
            "Takes forever to load my balance",
            "Everything lags and times out",
        ),
        ("Is the app slow for everyone today?",),
        ("App is much faster now",),
    ),
    "security_fraud": (
        (
            "There is a transaction I don't recognise",
            "Got a phishing SMS pretending to be you",
            "I think my account was hacked",
        ),
        ("Is this link from you or a scam?",),
        ("Thanks for blocking the suspicious payment so fast",),
    ),
    "cancellation": (
        (
            "I want to close my account, done with this",
            "Cancelled my subscription and you still charged me",
            "Switching to another bank after this",
        ),
        ("How do I cancel my subscription?",),
        ("Cancelling was easy, no hassle",),
    ),
    "product_quality": (
        ("Item arrived broken", "Poor quality, not as described", "Received a fake product"),
        ("What's the warranty on this item?",),
        ("Great quality for the price",),
    ),
    "loans_installments": (
        (
            "Loan application rejected with no reason",
            "Paid my installment but you charged a late payment penalty",
        ),
        ("What is the credit limit for buy now pay later?",),
        ("Instalment plan made the purchase easy",),
    ),
    "notifications": (
        ("Transaction alerts stopped arriving", "Too many marketing messages"),
        ("Can I get statements by email?",),
        ("Notifications are instant, helpful",),
    ),
    NONE: (
        ("Worst experience ever", "Not happy at all"),
        ("ok", "No comment", "n/a"),
        (
            "Love Sepehr!",
            "Great app, keep it up",
            "Everything works fine",
            "Best super app, thanks",
        ),
    ),
}
EN_DAYS = ("3 days", "a week", "two weeks", "5 days", "10 days")

NAMES = (
    "sara.k",
    "ali.r",
    "maryam.h",
    "reza.m",
    "niloofar",
    "amir.t",
    "user",
    "test.user",
    "zahra.s",
    "hossein",
)
AGENTS = tuple(f"agent_{i:02d}" for i in range(1, 19))


@dataclass
class Row:
    """One feedback row with its ground truth, before it is written."""

    source: str
    text: str
    theme: str
    sentiment: str
    language: str
    origin: str
    created_at: datetime | None = None
    customer_id: str | None = None
    score: int | None = None
    score_type: str | None = None
    meta: dict = field(default_factory=dict)
    defect: str = ""
    raw_created_at: str | None = None  # overrides the formatted timestamp (malformed rows)
    id: str = ""


# --- small helpers ------------------------------------------------------------------------


def pick(rng: np.random.Generator, options):
    return options[int(rng.integers(len(options)))]


def weighted(rng: np.random.Generator, weights: dict) -> str:
    keys = list(weights)
    p = np.array([weights[k] for k in keys], dtype=float)
    return keys[int(rng.choice(len(keys), p=p / p.sum()))]


def to_fa_digits(text: str) -> str:
    return text.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))


def fake_pii(rng: np.random.Generator, language: str) -> str:
    """A sentence with one obviously fake identifier (example.com, 0912 000 ...., 1234 5678 ...)."""
    n = int(rng.integers(1000, 9999))
    kind = pick(rng, ("email", "mobile", "mobile_intl", "card", "national_id", "iban"))
    value = {
        "email": f"{pick(rng, NAMES)}{n % 100}@example.com",
        "mobile": f"0912 000 {n:04d}",
        "mobile_intl": f"+98 912 000 {n:04d}",
        "card": f"1234 5678 0000 {n:04d}",
        "national_id": f"000-00{n:04d}-0",
        "iban": f"IR00 0000 0000 0000 0000 {n:04d} 00",
    }[kind]
    if language == "en":
        return {
            "email": f"You can email me at {value}",
            "mobile": f"Call me on {value}",
            "mobile_intl": f"my number is {value}",
            "card": f"card number {value}",
            "national_id": f"my national id is {value}",
            "iban": f"my IBAN is {value}",
        }[kind]
    if kind in ("mobile", "national_id") and rng.random() < 0.5:
        value = to_fa_digits(value)
    return {
        "email": f"ایمیلم {value} هست",
        "mobile": f"شماره تماسم {value}",
        "mobile_intl": f"با {value} تماس بگیرید",
        "card": f"شماره کارتم {value} هست",
        "national_id": f"کد ملی {value}",
        "iban": f"شبا {value}",
    }[kind]


def fill(rng: np.random.Generator, template: str) -> str:
    return template.format(
        amount=pick(rng, FA_AMOUNTS),
        days=pick(rng, FA_DAYS),
        order=f"{int(rng.integers(100000, 999999))}",
        days_en=pick(rng, EN_DAYS),
    )


def sentiment_for(rng: np.random.Generator, theme: str) -> str:
    if theme == NONE:
        return weighted(rng, {"positive": 0.55, "neutral": 0.3, "negative": 0.15})
    return weighted(rng, {"negative": 0.72, "neutral": 0.13, "positive": 0.15})


def persian_text(rng: np.random.Generator, theme: str, sentiment: str) -> str:
    neg, neu, pos = FA[theme]
    body = fill(rng, pick(rng, {"negative": neg, "neutral": neu, "positive": pos}[sentiment]))
    opener = pick(rng, FA_OPENERS)
    closer = pick(rng, FA_CLOSERS_NEG if sentiment == "negative" else FA_CLOSERS_OTHER)
    text = body + (" " + closer if closer else "")
    if opener:
        text = opener + pick(rng, ("، ", " ", " ")) + text
    if rng.random() < 0.3:  # informal texts often write digits in Latin
        text = text.translate(str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789"))
    return text


def english_text(rng: np.random.Generator, theme: str, sentiment: str) -> str:
    neg, neu, pos = EN[theme]
    text = fill(rng, pick(rng, {"negative": neg, "neutral": neu, "positive": pos}[sentiment]))
    if rng.random() < 0.2:
        text = text.lower()
    if sentiment == "negative" and rng.random() < 0.3:
        text += pick(rng, ("!!", ". Fix it please.", ". Really disappointed.", " @SepehrApp"))
    return text


def generated_theme(rng: np.random.Generator, allowed=None) -> str:
    weights = (
        GENERATED_THEME_WEIGHTS
        if allowed is None
        else {k: v for k, v in GENERATED_THEME_WEIGHTS.items() if k in allowed}
    )
    return weighted(rng, weights)


def maybe_pii(rng: np.random.Generator, text: str, language: str, sentiment: str) -> str:
    """Append a fake identifier to some complaints and questions (people rarely add one to praise)."""
    if sentiment != "positive" and rng.random() < PII_SHARE:
        return (
            f"{text.rstrip('.!')}. {fake_pii(rng, language)}"
            if language == "en"
            else f"{text} {fake_pii(rng, language)}"
        )
    return text


# --- sources ------------------------------------------------------------------------------


def banking77_rows(rng: np.random.Generator, datasets: Path) -> list[Row]:
    df = pd.read_csv(datasets / "en_banking77" / "train.csv", dtype=str)
    df = df[df["topic"].isin(list(BANKING77))].sort_values(["topic", "text"], kind="stable")
    take = df.iloc[np.sort(rng.choice(len(df), size=N_BANKING77, replace=False))]
    return [
        Row("tickets_en", t, *BANKING77[topic], "en", "banking77")
        for t, topic in zip(take["text"], take["topic"], strict=True)
    ]


def bitext_rows(rng: np.random.Generator, datasets: Path) -> list[Row]:
    df = pd.read_csv(datasets / "en_bitext_support" / "train.csv", dtype=str)
    df = (
        df[df["intent"].isin(list(BITEXT))]
        .drop_duplicates("text")
        .sort_values(["intent", "text"], kind="stable")
    )
    take = df.iloc[np.sort(rng.choice(len(df), size=N_BITEXT, replace=False))]
    return [
        Row("tickets_en", t, *BITEXT[intent], "en", "bitext")
        for t, intent in zip(take["text"], take["intent"], strict=True)
    ]


def review_theme(text: str) -> str:
    text = text.replace(
        "ي", "ی"
    )  # the rules are written with Persian yeh, the export has Arabic yeh
    for theme, pattern in REVIEW_THEME_RULES:
        if re.search(pattern, text):
            return theme
    return NONE


def review_rows(rng: np.random.Generator, datasets: Path) -> list[Row]:
    df = pd.read_csv(datasets / "fa_bank_app_reviews" / "train.csv", dtype=str)
    # reviews.csv is a Windows-1256 export: keep what survives that encoding (emoji-only reviews do not)
    df["text"] = df["text"].map(cp1256_safe)
    df = df[df["text"].str.len() > 1].drop_duplicates("text").reset_index(drop=True)
    take = df.iloc[np.sort(rng.choice(len(df), size=N_REVIEWS, replace=False))]
    rows = []
    for text, sentiment, rating in zip(
        take["text"], take["sentiment"], take["rating"], strict=True
    ):
        # the sample company is "Sepehr": other banks' names become ours (an MIT-permitted change)
        text = re.sub(rf"(بانک|همراه بانک)\s+({BANK_NAMES})(?=\s|$|[.،!؟])", r"\1 سپهر", text)
        language = (
            "mixed"
            if len(re.findall(r"[A-Za-z]", text)) > 0.2 * max(1, len(re.findall(r"\w", text)))
            else "fa"
        )
        rows.append(
            Row(
                "reviews",
                text,
                review_theme(text),
                sentiment,
                language,
                "bank_app_reviews",
                meta={
                    "rating": int(rating),
                    "store": pick(rng, ("bazaar", "myket", "google_play")),
                    "app_version": pick(rng, ("5.1.2", "5.1.3", "5.2.0")),
                },
            )
        )
    return rows


def fa_ticket_rows(rng: np.random.Generator) -> list[Row]:
    rows = []
    for _ in range(N_FA_TICKETS):
        theme = generated_theme(rng)
        sentiment = sentiment_for(rng, theme)
        text = maybe_pii(rng, persian_text(rng, theme, sentiment), "fa", sentiment)
        rows.append(Row("tickets_fa", text, theme, sentiment, "fa", "generated"))
    for _ in range(N_MIXED_TICKETS):
        theme = generated_theme(rng, MIXED)
        opener = pick(rng, ("سلام", "", "", "ببخشید"))
        text = (
            (opener + " " if opener else "")
            + pick(rng, MIXED[theme])
            + pick(rng, ("", "", " لطفا چک کنید", "!!", " plz"))
        )
        rows.append(
            Row(
                "tickets_fa",
                maybe_pii(rng, text, "fa", "negative"),
                theme,
                "negative",
                "mixed",
                "generated",
            )
        )
    order = rng.permutation(len(rows))
    return [rows[i] for i in order]


def survey_rows(rng: np.random.Generator) -> list[Row]:
    rows = []
    for _ in range(N_SURVEY):
        theme = generated_theme(rng)
        sentiment = sentiment_for(rng, theme)
        language = weighted(rng, {"fa": 0.6, "en": 0.3, "mixed": 0.1})
        if language == "mixed" and theme in MIXED and sentiment == "negative":
            text = pick(rng, MIXED[theme])
        elif language == "en":
            text = english_text(rng, theme, sentiment)
        else:
            language = "fa"
            text = persian_text(rng, theme, sentiment)
        text = maybe_pii(rng, text, language, sentiment)
        if rng.random() < 0.8:
            score_type, lo_hi = (
                "nps",
                {"negative": (0, 6), "neutral": (6, 8), "positive": (8, 10)}[sentiment],
            )
            survey = "relationship_nps_2026q4"
        else:
            score_type, lo_hi = (
                "csat",
                {"negative": (1, 2), "neutral": (3, 3), "positive": (4, 5)}[sentiment],
            )
            survey = pick(rng, ("post_delivery_csat", "post_support_csat"))
        score = int(rng.integers(lo_hi[0], lo_hi[1] + 1))
        rows.append(
            Row(
                "survey",
                text,
                theme,
                sentiment,
                language,
                "generated",
                score=score,
                score_type=score_type,
                meta={"survey": survey},
            )
        )
    return rows


def social_rows(rng: np.random.Generator) -> list[Row]:
    rows = []
    for _ in range(N_SOCIAL):
        theme = generated_theme(rng)
        sentiment = sentiment_for(rng, theme)
        if rng.random() < 0.55:
            language, text = "fa", persian_text(rng, theme, sentiment)
            text = pick(rng, ("@sepehr_app ", "", "", "سپهر ")) + text
        else:
            language, text = "en", english_text(rng, theme, sentiment)
            text = pick(rng, ("@SepehrApp ", "", "Hey @SepehrApp ")) + text
        if rng.random() < 0.15:
            text += pick(rng, (" #سپهر", " #sepehr", " 😡", " 🙏", " 👎", " ❤️"))
        platform = weighted(rng, {"x": 0.45, "instagram": 0.35, "telegram": 0.2})
        rows.append(
            Row(
                "social",
                maybe_pii(rng, text, language, sentiment),
                theme,
                sentiment,
                language,
                "generated",
                meta={"platform": platform, "handle": f"@u{int(rng.integers(10000, 99999))}"},
            )
        )
    return rows


# --- dates, customers, churn, transactions -----------------------------------------------


def assign_dates(rng: np.random.Generator, rows: list[Row]) -> None:
    start = END - timedelta(days=FEEDBACK_DAYS)
    spike_start = END - timedelta(days=SPIKE_DAYS)
    hours = np.array(
        [1, 1, 1, 1, 1, 2, 3, 5, 8, 9, 9, 9, 8, 8, 8, 8, 8, 8, 9, 9, 8, 6, 4, 2], dtype=float
    )
    for row in rows:
        lo = spike_start if (row.theme == SPIKE_THEME and rng.random() < SPIKE_SHARE) else start
        day = lo + timedelta(days=int(rng.integers(0, (END - lo).days)))
        # hours are Tehran local time (UTC+3:30), stored as UTC
        local_hour = int(rng.choice(24, p=hours / hours.sum()))
        seconds = local_hour * 3600 + int(rng.integers(0, 3600))
        row.created_at = day + timedelta(seconds=seconds) - timedelta(hours=3, minutes=30)


def make_customers(rng: np.random.Generator) -> pd.DataFrame:
    ids = [f"C{i:05d}" for i in range(1, N_CUSTOMERS + 1)]
    plans = [weighted(rng, PLANS) for _ in ids]
    regions = [weighted(rng, REGIONS) for _ in ids]
    signup = [END.date() - timedelta(days=int(rng.integers(100, 6 * 365))) for _ in ids]
    return pd.DataFrame(
        {
            "customer_id": ids,
            "plan": plans,
            "region": regions,
            "signup_date": signup,
            "activity": rng.gamma(0.8, 1.0, size=len(ids)),
        }
    )


def link_customers(rng: np.random.Generator, rows: list[Row], customers: pd.DataFrame) -> None:
    """Give most rows a customer; negative CONFOUNDED_THEME rows go mostly to CONFOUNDED_WITH complainers."""
    p = customers["activity"].to_numpy()
    p = p / p.sum()
    ids = customers["customer_id"].tolist()
    order = sorted(
        range(len(rows)), key=lambda i: rows[i].theme == CONFOUNDED_THEME
    )  # confounded last
    complained: list[str] = []
    for i in order:
        row = rows[i]
        if rng.random() >= LINK_SHARE[row.source]:
            continue
        if (
            row.theme == CONFOUNDED_THEME
            and row.sentiment == "negative"
            and complained
            and rng.random() < CONFOUND_SHARE
        ):
            row.customer_id = pick(rng, complained)
        else:
            row.customer_id = ids[int(rng.choice(len(ids), p=p))]
        if (
            row.theme == CONFOUNDED_WITH
            and row.sentiment == "negative"
            and row.customer_id not in complained
        ):
            complained.append(row.customer_id)


def decide_churn(
    rng: np.random.Generator, rows: list[Row], customers: pd.DataFrame
) -> pd.DataFrame:
    """Churn from plan base rates plus the causal theme effects; churn happens after the complaint."""
    negative: dict[str, set[str]] = {}
    last_feedback: dict[str, datetime] = {}
    for row in rows:
        if row.customer_id is None:
            continue
        if row.sentiment == "negative":
            negative.setdefault(row.customer_id, set()).add(row.theme)
        last_feedback[row.customer_id] = max(
            last_feedback.get(row.customer_id, row.created_at), row.created_at
        )
    churned, churned_at = [], []
    for cid, plan, signup in zip(
        customers["customer_id"], customers["plan"], customers["signup_date"], strict=True
    ):
        p = BASE_CHURN[plan] + sum(CHURN_EFFECTS.get(t, 0.0) for t in sorted(negative.get(cid, ())))
        is_churned = bool(rng.random() < min(p, MAX_CHURN))
        when = None
        if is_churned:
            if cid in last_feedback:
                after = last_feedback[cid].date() + timedelta(days=1)
                room = max(1, min(45, (END.date() - after).days))
                when = after + timedelta(days=int(rng.integers(0, room)))
            else:
                lo = max(signup + timedelta(days=30), END.date() - timedelta(days=TRANSACTION_DAYS))
                when = lo + timedelta(days=int(rng.integers(0, max(1, (END.date() - lo).days))))
        churned.append(is_churned)
        churned_at.append(when)
    out = customers.copy()
    out["churned"] = churned
    out["churned_at"] = churned_at
    return out


def finish_customers(rng: np.random.Generator, customers: pd.DataFrame) -> pd.DataFrame:
    out = customers.copy()
    until = [c if c is not None else END.date() for c in out["churned_at"]]
    out["tenure_months"] = [
        max(0, (u - s).days * 12 // 365) for u, s in zip(until, out["signup_date"], strict=True)
    ]
    crm = rng.random(len(out)) < CRM_SHARE
    clv = [round(float(rng.gamma(2.0, CRM_CLV_MEAN[plan] / 2.0)), 2) for plan in out["plan"]]
    out["clv"] = [v if c else None for v, c in zip(clv, crm, strict=True)]
    return out


def make_transactions(rng: np.random.Generator, customers: pd.DataFrame) -> pd.DataFrame:
    """BG/NBD-like: Poisson purchases while alive, dropout after each purchase with prob p; Gamma spend."""
    start = END.date() - timedelta(days=TRANSACTION_DAYS)
    records = []
    for cid, plan, signup, churned_at, clv in customers[
        ["customer_id", "plan", "signup_date", "churned_at", "clv"]
    ].itertuples(index=False):
        if clv is not None and not pd.isna(clv):
            continue  # CRM customers: the CRM's clv is used, no transactions exported
        rate = rng.gamma(2.0, PURCHASE_RATE[plan] / 2.0) * 12 / 365  # purchases per day
        dropout = rng.beta(*DROPOUT_BETA)
        mean_spend = rng.gamma(4.0, SPEND_MEAN[plan] / 4.0)
        t = max(signup, start)
        stop = churned_at if churned_at is not None else END.date()
        while True:
            t = t + timedelta(days=float(rng.exponential(1.0 / rate)))
            if t >= stop:
                break
            amount = round(float(rng.gamma(6.0, mean_spend / 6.0)), 2)
            records.append((cid, t.isoformat(), f"{amount:.2f}"))
            if rng.random() < dropout:
                break
    return pd.DataFrame(records, columns=["customer_id", "date", "amount"])


# --- malformed rows and writing ---------------------------------------------------------------

# (file, position among data rows, defect, how the row is broken) - listed in data/README.md too
MALFORMED = (
    ("tickets_en", 120, "missing_created_at", "created_at empty"),
    ("tickets_en", 480, "unparsable_created_at", "created_at is 'yesterday 3pm'"),
    ("tickets_en", 700, "duplicate_id", "same id as the row before, different text"),
    ("tickets_fa", 40, "empty_text", "text is empty"),
    (
        "tickets_fa",
        300,
        "unparsable_created_at",
        "created_at is a Jalali date in Persian digits '۱۴۰۵/۰۸/۱۲ ۱۰:۳۰'",
    ),
    ("tickets_fa", 450, "duplicate_id", "exact repeat of the row before (re-exported)"),
    ("reviews", 200, "unparsable_created_at", "created_at is '31/09/2026'"),
    ("survey", 100, "missing_created_at", "no created_at key"),
    ("survey", 333, "empty_text", "text is whitespace only"),
    ("social", 50, "missing_text", "text is null"),
    ("social", 250, "unparsable_created_at", "created_at is 'Nov 3rd'"),
)


def inject_malformed(rows_by_source: dict[str, list[Row]]) -> None:
    for source, position, defect, _ in MALFORMED:
        rows = rows_by_source[source]
        before = rows[position - 1]
        bad = Row(
            source,
            before.text,
            before.theme,
            before.sentiment,
            before.language,
            before.origin,
            created_at=before.created_at,
            customer_id=before.customer_id,
            score=before.score,
            score_type=before.score_type,
            meta=dict(before.meta),
            defect=defect,
        )
        if defect == "missing_created_at":
            bad.raw_created_at = ""
        elif defect == "unparsable_created_at":
            bad.raw_created_at = {
                "tickets_en": "yesterday 3pm",
                "tickets_fa": "۱۴۰۵/۰۸/۱۲ ۱۰:۳۰",
                "reviews": "31/09/2026",
                "social": "Nov 3rd",
            }[source]
        elif defect in ("empty_text", "missing_text"):
            bad.text = "   " if source == "survey" else ("" if defect == "empty_text" else None)
            bad.theme, bad.sentiment = NONE, "neutral"
        elif defect == "duplicate_id":
            bad.id = before.id
            if source == "tickets_en":
                bad.text = "Still waiting, any update on this?"
                bad.theme, bad.sentiment = "support", "negative"
        if not bad.id:
            bad.id = f"{before.id}-x"
        rows.insert(position, bad)


ID_PREFIX = {
    "tickets_en": "TKT-EN-",
    "tickets_fa": "TKT-FA-",
    "reviews": "RV-",
    "survey": "SV-",
    "social": "SO-",
}


def assign_ids(rows: list[Row]) -> None:
    for n, row in enumerate(rows, start=1):
        row.id = f"{ID_PREFIX[row.source]}{n:05d}"


def cp1256_safe(text: str) -> str:
    """What a Windows-1256 export keeps: Arabic yeh/kaf, Latin digits, no emoji."""
    text = text.replace("ی", "ي").translate(str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789"))
    return "".join(ch for ch in text if ch.encode("cp1256", errors="ignore")).strip()


def timestamp(row: Row) -> str:
    if row.raw_created_at is not None:
        return row.raw_created_at
    ts = row.created_at
    if row.source == "tickets_fa":
        return ts.astimezone(TEHRAN).isoformat(timespec="seconds")
    if row.source == "reviews":
        return ts.astimezone(TEHRAN).date().isoformat()
    if row.source == "social":
        return ts.isoformat(timespec="seconds")
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


def segment_meta(row: Row, customers: pd.DataFrame) -> dict:
    if row.customer_id is None:
        return {"plan": None, "region": None}
    rec = customers.loc[row.customer_id]
    return {"plan": rec["plan"], "region": rec["region"]}


def write_csv(
    path: Path, rows: list[Row], customers: pd.DataFrame, rng: np.random.Generator, encoding: str
) -> None:
    records = []
    for row in rows:
        rec = {
            "id": row.id,
            "text": row.text,
            "created_at": timestamp(row),
            "channel": "review" if row.source == "reviews" else "ticket",
            "customer_id": row.customer_id or "",
        }
        if row.source.startswith("tickets"):
            rec |= segment_meta(row, customers)
            rec["agent"] = pick(rng, AGENTS)
            rec["priority"] = weighted(rng, {"low": 0.3, "normal": 0.55, "high": 0.15})
        rec |= row.meta
        records.append(rec)
    buffer = io.StringIO()
    pd.DataFrame(records).to_csv(
        buffer,
        index=False,
        lineterminator="\r\n" if encoding == "cp1256" else "\n",
        quoting=csv.QUOTE_MINIMAL,
    )
    path.write_bytes(buffer.getvalue().encode(encoding))


def write_jsonl(path: Path, rows: list[Row], customers: pd.DataFrame) -> None:
    lines = []
    for row in rows:
        rec: dict = {"id": row.id, "text": row.text}
        if row.defect != "missing_created_at":
            rec["created_at"] = timestamp(row)
        rec["channel"] = row.source
        if row.customer_id:
            rec["customer_id"] = row.customer_id
        if row.score is not None:
            rec["score"], rec["score_type"] = row.score, row.score_type
        if row.source == "survey":
            rec |= {k: v for k, v in segment_meta(row, customers).items() if v is not None}
        rec |= row.meta
        lines.append(json.dumps(rec, ensure_ascii=False))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def fmt_date(d) -> str:
    return "" if d is None or (not isinstance(d, date) and pd.isna(d)) else d.isoformat()


def build(datasets: Path, out: Path, seed: int = SEED) -> dict[str, int]:
    """Write the whole sample under ``out``; returns rows per written file."""
    rng = np.random.default_rng(seed)
    sources = {
        "tickets_en": banking77_rows(rng, datasets) + bitext_rows(rng, datasets),
        "tickets_fa": fa_ticket_rows(rng),
        "reviews": review_rows(rng, datasets),
        "survey": survey_rows(rng),
        "social": social_rows(rng),
    }
    sources["tickets_en"] = [
        sources["tickets_en"][i] for i in rng.permutation(len(sources["tickets_en"]))
    ]
    all_rows = [r for rows in sources.values() for r in rows]
    assign_dates(rng, all_rows)
    for rows in sources.values():
        rows.sort(key=lambda r: r.created_at)
        assign_ids(rows)
    customers = make_customers(rng)
    link_customers(rng, all_rows, customers)
    customers = finish_customers(rng, decide_churn(rng, all_rows, customers))
    transactions = make_transactions(rng, customers)
    inject_malformed(sources)

    (out / "feedback").mkdir(parents=True, exist_ok=True)
    by_id = customers.set_index("customer_id")
    files = {
        "tickets_en": ("feedback/tickets_en.csv", "utf-8"),
        "tickets_fa": ("feedback/tickets_fa.csv", "utf-8-sig"),
        "reviews": ("feedback/reviews.csv", "cp1256"),
        "survey": ("feedback/survey.jsonl", "utf-8"),
        "social": ("feedback/social.jsonl", "utf-8"),
    }
    counts, truth = {}, []
    for source, (name, encoding) in files.items():
        rows = sources[source]
        if name.endswith(".csv"):
            write_csv(out / name, rows, by_id, rng, encoding)
        else:
            write_jsonl(out / name, rows, by_id)
        counts[name] = len(rows)
        truth += [
            {
                "file": name,
                "source": source,
                "row": n,
                "id": r.id,
                "theme": r.theme,
                "sentiment": r.sentiment,
                "language": r.language,
                "origin": r.origin,
                "customer_id": r.customer_id or "",
                "defect": r.defect,
            }
            for n, r in enumerate(rows, start=1)
        ]
    pd.DataFrame(truth).to_csv(out / "truth.csv", index=False, lineterminator="\n")
    counts["truth.csv"] = len(truth)

    cust = pd.DataFrame(
        {
            "customer_id": customers["customer_id"],
            "plan": customers["plan"],
            "region": customers["region"],
            "signup_date": [fmt_date(d) for d in customers["signup_date"]],
            "tenure_months": customers["tenure_months"],
            "churned": ["true" if c else "false" for c in customers["churned"]],
            "churned_at": [fmt_date(d) for d in customers["churned_at"]],
            "clv": ["" if v is None or pd.isna(v) else f"{v:.2f}" for v in customers["clv"]],
        }
    )
    cust.to_csv(out / "customers.csv", index=False, lineterminator="\n")
    transactions.to_csv(out / "transactions.csv", index=False, lineterminator="\n")
    counts["customers.csv"], counts["transactions.csv"] = len(cust), len(transactions)
    return counts


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--datasets", type=Path, default=DEFAULT_DATASETS, help="the shared datasets folder"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to write the sample")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    for name, n in build(args.datasets, args.out, args.seed).items():
        print(f"{name:28s} {n:6d} rows")


if __name__ == "__main__":
    main()

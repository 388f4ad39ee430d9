"""What a question asks for, and whether a span holds it (rag.asked)."""
import pytest

from rag.asked import (
    asks_for,
    asks_for_list,
    asks_name,
    echoes,
    holds_type,
    is_clause,
    lacks_asked_value,
    misses_asked_kind,
    names_nothing,
    says_opposite,
    speaks_of_the_whole,
)


def test_the_answer_type_asked_for():
    assert asks_for("连续血糖监测仪一台大概卖多少钱？") == "price"
    assert asks_for("哪一年提出的？") == "date"
    assert asks_for("建成了多少座加氢站？") == "count"
    assert asks_for("占比是多少？") == "share"
    assert asks_for("谁创立了腾讯？") == "name"
    assert asks_for("隐私计算是什么？") is None
    # A share word asks a share only beside a question word.
    assert asks_for("整个下萨克森邦有多少比例的人信仰天主教？") == "share"
    assert asks_for("65岁及以上老人在全国人口中占多大比重？") == "share"
    assert asks_for("2023年渗透率达到了多少？") == "share"
    assert asks_for("红色、蓝色和绿色按一定比例混合会得到什么颜色的光？") is None
    assert asks_for("市场上以哪一种米的比例最多？") is None


@pytest.mark.parametrize("question, wanted", [
    ("隐私计算有哪几种常见流派？", True), ("生成式AI与金融行业的结合有哪两种形式？", True), ("刷掌支付用到了哪些生物特征？", True),
    ("有几类参与方？", True), ("Which biometric features does palm payment use?", True), ("What are the two forms?", True),
    ("哪一年发布的？", False), ("有多少个国家参加？", False), ("Who coined the term?", False), ("刷掌支付是什么？", False),
    ("Which district has the highest completion rate?", False),   # "has" is no plural
    ("Which countries does the co-op export to?", True),
])
def test_questions_asking_for_several_things_are_told_apart(question, wanted):
    assert asks_for_list(question) is wanted


@pytest.mark.parametrize("question, span, nobody", [
    ("江州地铁的信号系统是由哪家厂商提供的？", "不同厂商", True),
    ("数据中心属于哪家互联网公司？", "互联网企业", True),
    ("三家协会分别是哪几家？", "三家金融类行业协会", True),
    ("那个古籍数字化平台叫什么名字？", "古籍约4000部", True),
    ("哪家公司推出了刷掌支付？", "腾讯公司", False),
    ("第三期建设规划是由哪个部门批准的？", "国家发展改革委", False),
    ("全国一共有多少家？", "三家", False),   # not a name question
])
def test_a_span_that_counts_or_echoes_names_nobody(question, span, nobody):
    assert names_nothing(question, span) is nobody


@pytest.mark.parametrize("question, before, span, nobody", [
    ("Which consulting firm estimated the market size?", "据一家", "咨询机构", True),   # "a firm" names none
    ("哪个机构测算了市场规模？", "据某", "咨询机构", True),
    ("哪个机构测算了市场规模？", "据", "赛迪顾问", False),
    ("蒂亚戈·蒙泰罗是哪个国家的赛车手？", "是一位", "葡萄牙", False),   # a name inside an indefinite phrase
])
def test_a_kind_of_thing_after_an_indefinite_article_names_nobody(question, before, span, nobody):
    assert names_nothing(question, span, before) is nobody


@pytest.mark.parametrize("question, span, lacks", [
    ("How many MCN agencies work on live commerce in Southeast Asia?", "多家", True),
    ("冷板式液冷数据中心的WUE一般能做到多少L/kWh？", "L/kWh", True),
    ("What share of new racks used cold plates?", "冷板", True),
    ("What share of new racks used cold plates?", "约为85%", False),
    ("到2023年底，国内大约有多少家博物馆已经着手做藏品数字化？", "2100", False),  # no measure word needed
    ("蒙哥在哪一年成为大蒙古国大汗？", "1251年", False),
    ("哪一个组织表示义务教育投入远未到达世界教育投入比重的平均水平？", "联合国人权委员会", False),  # asks which organisation
    ("刷掌支付用到了哪些生物特征？", "多元生物", False),   # asks for no value
    ("白皮书是在2023年哪个月发布的？", "电信运营商", True),
    ("北美洲第一所医学院是哪一个人在哪一年创建的？", "约翰·莫根", False),  # asks who as well
])
def test_a_span_without_the_value_asked_for_answers_something_else(question, span, lacks):
    assert lacks_asked_value(question, span) is lacks


@pytest.mark.parametrize("question, span, following, column, misses", [
    ("3D打印复制的是云冈第几窟？", "1:1比例", "复制", "", True),          # no ordinal, no 窟
    ("3D打印复制的是云冈第几窟？", "20", "窟，", "", False),               # the measure word follows
    ("3D打印复制的是云冈第几窟？", "第20窟", "", "", False),
    ("在1984年发表了Mac第几款？", "首款", "的Mac", "", False),             # 首 is first
    ("白皮书是在2023年几月发布的？", "2023年", "，", "", True),           # a year is no month
    ("白皮书是在2023年几月发布的？", "2023年", "5月发布", "", True),      # the month is not in the span
    ("白皮书是在2023年几月发布的？", "5", "月", "", False),
    ("从哪一月开始降雨最多？", "6", "-8月的降雨", "", False),             # a range of months
    ("WUE一般能做到多少L/kWh？", "单位为L/kWh", "。", "", True),          # the unit without a number
    ("WUE一般能做到多少L/kWh？", "1.2", " L/kWh", "", False),
    ("WUE一般能做到多少L/kWh？", "1.2", "", "WUE（L/kWh）", False),     # the unit in the column header
    ("How many stations does Line 11 have?", "29座", "", "", False),     # a count of things
    ("How many passengers used the gates in 2024?", "9.6%", "", "", True),   # a share counts nobody
    ("芝大的本科录取率为多少?", "8.6%", "", "", False),                   # a bare 多少 also asks rates
    ("How many inspection robots does the city own?", "32公里", "", "", True),   # a length counts no robots
    ("How many kilometres of new line opened?", "47.2公里", "", "", False),      # asked in units
    ("How many turbines were installed?", "4100", "万千瓦，连续", "", True),    # the unit just after
    ("How many turbines were installed?", "4100万千瓦，连续四年位居全球第一", "", "", True),   # its first clause
    ("新生儿一天要睡超过多少个小时?", "18小时", "", "", False),
    ("How many turbines were installed in 2024?", "第一", "", "", True),        # a rank counts nothing
    ("台湾的外汇储备全世界排名多少?", "第5", "", "", False),                    # asked a rank
    ("杜拜国际机场的旅客量位处世界第几名?", "第7名", "", "", False),
    ("全市建成了多少座换电站？", "6", "座", "", False),
    ("青川区有多少名专职厨师？", "23家", "", "", True),                  # 家 counts no cooks
    ("青川区有多少名专职厨师？", "23", "家，全年", "", True),             # the measure word just after
    ("全市有多少名员工？", "38人", "", "", False),                        # kin measure words
    ("全国有多少个企业参与？", "12家", "", "", False),                    # the generic 个 asks any
    ("How much does the AR guide cost?", "3.8小时", "，", "", True),      # no money
    ("How much does the AR guide cost?", "5", "元一次", "", False),       # the unit follows
    ("门票多少钱？", "免费", "", "", False),
    ("门票多少钱？", "38", "", "票价（元）", False),                       # the unit in the column header
    ("计程车的收费标准会以什么距离作为分界？", "2公里", "", "", False),   # a price mentioned, a distance asked
    ("第三期建设规划包括的6个项目分别是哪几条线路？", "158公里", "", "", True),   # a quantity names nothing
    ("第三期建设规划包括的6个项目分别是哪几条线路？", "1号线、2号线", "", "", False),
    ("哪一天开始降温？", "15", "日", "", False),                          # a day is asked
    ("合作社理事长叫什么名字？", "青禾镇", "", "", True),                   # a place is nobody
    ("负责夜间值守的馆员叫什么名字？", "志愿者", "", "", True),             # a role is no name
    ("合作社理事长叫什么名字？", "周秀兰", "", "", False),
])
def test_a_span_of_another_kind_than_asked_is_not_an_answer(question, span, following, column, misses):
    assert misses_asked_kind(question, span, following, column) is misses


@pytest.mark.parametrize("question, span, column, lacks", [
    ("荆条蜜的收购价是每公斤多少元？", "38", "收购价（元/公斤）", False),   # the unit is in the header
    ("荆条蜜的收购价是每公斤多少元？", "38", "年产量（吨）", True),        # a number of another kind
    ("荆条蜜的收购价是每公斤多少元？", "38", "", True),                  # not a table cell
    ("线上销售的占比是多少？", "18", "线上销售占比", False),                # the header names a share
    ("线上销售的占比是多少？", "荆条蜜", "产品", True),                    # a cell without a number
])
def test_a_table_cell_is_read_with_its_column_header(question, span, column, lacks):
    assert lacks_asked_value(question, span, column) is lacks


@pytest.mark.parametrize("question, text, holds", [
    ("2024年全市发生了多少起电动自行车火灾？", "全市已在412个老旧小区建成集中充电棚。", False),
    ("2024年全市发生了多少起电动自行车火灾？", "全年共发生电动自行车火灾3宗。", True),   # a kin measure word
    ("资源库收录了多少张壁画图像？", "资源库已收录壁画图像6.5万张。", True),
    ("全市建成了多少处充电棚？", "建成集中充电棚1,060处。", True),
    ("全市建成了多少处充电棚？", "覆盖居民约18万户。", False),
])
def test_a_count_asked_with_a_measure_word_needs_it_after_a_number(question, text, holds):
    assert holds_type(question, "count", text) is holds


@pytest.mark.parametrize("text, holds", [
    ("庚申年三月二十四日，忽必烈在部分宗王和大臣拥立下自立为皇帝。", True),   # a sexagenary year
    ("弘治十二年，王守仁举进士。", True),
    ("正月初一，全城张灯结彩。", True),                                    # a month and day in Chinese numerals
    ("十月革命改变了俄国。", False),                                       # a name, not a date
    ("甲午战争后，清廷被迫签约。", False),
])
def test_dates_written_in_chinese_numerals_or_the_sexagenary_cycle(text, holds):
    assert holds_type("这件事发生在哪一年？", "date", text) is holds


def test_which_one_is_asked_for_one_thing_not_a_value():
    from rag.asked import asked_value, asks_which

    assert asks_which("哪个区的完成率最低？") and asks_which("Which district has the highest completion rate?")
    assert asked_value("Which district has the highest completion rate?") is None   # a district, not a rate
    assert asked_value("Which year did the pilot start?") == "date"
    assert not asks_which("Which countries does the co-op export to?")   # a list


def test_asked_who_a_clause_is_no_name():
    assert asks_name("中标的运营企业是哪一家？") and asks_name("谁提出了民族自决？") and not asks_name("一共有多少家？")
    assert is_clause("财政给予400元的补助，其余投资由中标企业承担") and not is_clause("伍德罗·威尔逊")


@pytest.mark.parametrize("question, clause, whole", [
    ("广州市老旧小区累计加装了多少部电梯？", "全国老旧小区累计加装电梯约7.2万部。", True),
    ("How many elderly care institutions are there in Shanghai?", "全国已建成老年助餐点超过8万个。", True),
    ("广州市老旧小区累计加装了多少部电梯？", "全球累计部署超过3万台", True),
    ("黑龙江省的土地面积是全国第几大?", "排名全国第6。", False),          # ranked within the whole
    ("新北市有几座核能电厂？", "新北市是全球唯一市内有三座核能电厂的都市", False),
    ("刘少奇哪一年成为国家元首？", "1959年召开第二届全国人大前夕", False),   # a name holding 全国
    ("全国老旧小区累计加装了多少部电梯？", "全国老旧小区累计加装电梯约7.2万部。", False),  # asked of the whole
    ("How many lifts were added nationwide?", "全国老旧小区累计加装电梯约7.2万部。", False),
    ("广州市老旧小区累计加装了多少部电梯？", "单部电梯最高可获得15万元", False),
])
def test_a_clause_about_the_whole_country_or_world(question, clause, whole):
    """A clause stating a figure of the whole country or world, not ranking within it; the
    caller refuses it only when its sentence lacks the names the question gives."""
    assert speaks_of_the_whole(question, clause) is whole


def test_a_clause_saying_the_opposite_superlative_does_not_answer():
    assert says_opposite("哪个区的完成率最低？", "东湖区完成率最高")
    assert not says_opposite("哪个区的完成率最低？", "西岭区完成率最低，仅为61%")
    assert not says_opposite("哪个区的完成率最低？", "西岭区受场地限制")
    assert not says_opposite("哪个区最高、哪个区最低？", "东湖区完成率最高")   # asks both ends


@pytest.mark.parametrize("question, span, before, after, echo", [
    ("什么叫数字孪生？", "数字孪生", "所谓", "，是指", True),                   # the subject itself
    ("什么叫数字孪生？", "在虚拟空间中构建数字模型", "", "", False),
    ("哪一门光学处理光的量子力学特性？", "量子光学", "", "", False),          # its characters, not one run
    ("产品是卖给生产者还是消费者?", "消费者", "", "", False),                 # the question offers it
    ("How is the technical system of smart agriculture summarized?", "智慧农业", "", "**（Smart Agriculture）**是指", True),
    ("What does drip irrigation do?", "精准灌溉", "", "（Precision Irrigation）", False),  # another term
    ("隐私计算是一种怎样的技术？", "Privacy Computing", "其中，隐私计算(", ")是指", True),
    ("隐私计算有哪些流派？", "Trusted Computing", "可信计算(", ")", False),
    ("What is NFT short for?", "Non-Fungible Token", "非同质化通证（", "）", False),
])
def test_a_span_that_only_repeats_the_question_is_not_its_answer(question, span, before, after, echo):
    assert echoes(question, span, before, after) is echo

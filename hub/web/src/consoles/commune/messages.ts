import { defineMessages } from '../../i18n/define.js';

/** Messages of the commune console: my devices (list and map), one device's page. */
export const communeMessages = defineMessages({
  'commune.title': { vi: 'Thiết bị của xã/phường', en: 'My commune\u2019s devices' },
  'commune.intro': { vi: 'Các thiết bị trong địa bàn của bạn: kết nối, giá trị mới nhất, pin và cảnh báo đang mở.', en: 'The devices in your area: link, last values, battery and open alerts.' },
  'commune.list': { vi: 'Danh sách thiết bị', en: 'Device list' },
  'commune.link': { vi: 'Kết nối', en: 'Link' },
  'commune.lastValues': { vi: 'Giá trị mới nhất', en: 'Last values' },
  'commune.alert': { vi: 'Cảnh báo', en: 'Alert' },
  'commune.noAlert': { vi: 'Không có cảnh báo', en: 'No alert' },
  'commune.noDevices': { vi: 'Không có thiết bị nào trong địa bàn của bạn.', en: 'No devices in your area.' },
  'commune.noValue': { vi: 'Chưa có số đo', en: 'No reading yet' },
  'commune.notFound': { vi: 'Không tìm thấy thiết bị này, hoặc thiết bị không thuộc địa bàn của bạn.', en: 'This device was not found, or it is not in your area.' },
  'commune.backToList': { vi: 'Về danh sách thiết bị', en: 'Back to the device list' },
  'commune.charts': { vi: 'Biểu đồ 24 giờ qua', en: 'Charts, last 24 hours' },
  'commune.chart24h': { vi: '24 giờ qua (trung bình mỗi phút)', en: 'last 24 h (1-minute averages)' },
  'commune.chartLast': { vi: 'mới nhất {time}', en: 'latest {time}' },
  'commune.noData24h': { vi: 'Không có số đo trong 24 giờ qua.', en: 'No readings in the last 24 hours.' },
  'commune.alerts': { vi: 'Cảnh báo của thiết bị', en: 'This device\u2019s alerts' },
  'commune.opened': { vi: 'Bắt đầu', en: 'Opened' },
  'commune.state': { vi: 'Trạng thái', en: 'State' },
  'commune.message': { vi: 'Nội dung', en: 'Message' },
  'commune.place': { vi: 'Vị trí', en: 'Location' },
  'commune.gateway': { vi: 'Trạm thu thập', en: 'Gateway' },
  'commune.river': { vi: 'Sông {river}', en: '{river} river' },
  'commune.levels': { vi: 'Mức báo động: BĐ I {bd1} m · BĐ II {bd2} m · BĐ III {bd3} m', en: 'Alarm levels: I {bd1} m · II {bd2} m · III {bd3} m' },
});

"""What only WEG WEMOB stations do (application manual §4.4): the SilentModeSchedule
DataTransfer and silent mode in force (`schedule`, `silent_mode`) with the DC cabinet it quiets
(`thermal`, `cabinet`); the station's menu under EnableHmiConfiguration (`hmi`); the display
dimming after ScreenSaverTime (`display`); AutoChargeEnabled's "VID:" idTags (`auto_charge`);
EnableSystemHealth (`system_health`). AlwaysAllowOfflineTransactions lives with authorization,
AllowChargeAfterBrownOut with transaction recovery."""

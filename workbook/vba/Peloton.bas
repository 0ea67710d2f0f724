Attribute VB_Name = "Peloton"
' The Peloton ribbon tab (customUI/customUI.xml) and its macros.
' Each ribbon callback takes the IRibbonControl the ribbon passes and calls a twin
' without arguments, so the same macro also runs from Alt+F8 or a sheet button.
' The work is done in Python by peloton_xl.py beside this workbook (through xlwings).
' Built from workbook/vba/Peloton.bas by `python -m pelotonxl.template.build`: edit that file.
Option Explicit

' The release of these Excel parts and the xlwings their VBA is for (filled in by the build): passed to
' Python, which says in one line when the installed ones differ and what to run.
Private Const PARTS As String = "@PARTS@"

Public Sub PelotonRefresh_OnAction(control As IRibbonControl)
    PelotonRefresh
End Sub

Public Sub PelotonFullRefresh_OnAction(control As IRibbonControl)
    PelotonFullRefresh
End Sub

Public Sub PelotonShowRide_OnAction(control As IRibbonControl)
    PelotonShowRide
End Sub

Public Sub PelotonHelp_OnAction(control As IRibbonControl)
    PelotonHelp
End Sub

' Fetch what is new since the last refresh and rewrite the Workouts and Metrics sheets.
Public Sub PelotonRefresh()
    RunPython "import peloton_xl; peloton_xl.refresh(parts=""" & PARTS & """)"
End Sub

' Fetch the whole history again, also dropping workouts deleted on Peloton's side.
Public Sub PelotonFullRefresh()
    Dim answer As VbMsgBoxResult
    answer = MsgBox("Fetch your whole workout history again?" & vbLf & vbLf & _
                    "This takes longer than a normal refresh.", _
                    vbOKCancel + vbQuestion, "Peloton full refresh")
    If answer <> vbOK Then Exit Sub
    RunPython "import peloton_xl; peloton_xl.refresh(full=True, parts=""" & PARTS & """)"
End Sub

' Show the ride in the active cell's row on the Ride sheet, from the local store (no network).
Public Sub PelotonShowRide()
    RunPython "import peloton_xl; peloton_xl.show_ride()"
End Sub

Public Sub PelotonHelp()
    MsgBox "1. On the Config sheet, fill in your Peloton email." & vbLf & _
           "2. Peloton > Refresh fetches your workouts into the Workouts and Metrics sheets." & vbLf & _
           "3. Peloton > Full refresh fetches your whole history again." & vbLf & _
           "4. Peloton > Show ride shows the ride in the selected row on the Ride sheet." & vbLf & vbLf & _
           "Python runs peloton_xl.py from this workbook's folder; the xlwings.conf sheet says which Python." & vbLf & _
           "In a cell: =PELOTON_METRIC(A2, ""avg_output"") reads one workout's metric.", _
           vbInformation, "Peloton workbook"
End Sub
